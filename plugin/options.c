/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sasl-log.h"

bool
mb_opt_parse_bool(const char *value, bool def)
{
	if (value == NULL || value[0] == '\0')
		return def;
	if (value[0] == '1' || value[0] == 'y' || value[0] == 'Y' ||
	    value[0] == 't' || value[0] == 'T' ||
	    strcasecmp(value, "on") == 0)
		return true;
	if (value[0] == '0' || value[0] == 'n' || value[0] == 'N' ||
	    value[0] == 'f' || value[0] == 'F' ||
	    strcasecmp(value, "off") == 0)
		return false;
	return def;
}

/* The option's value or NULL.  The pointer is libsasl2's or the
 * application's, valid until the next getopt call: copy it. */
static const char *
opt_get(const sasl_utils_t *utils, const char *mech_name, const char *name)
{
	const char *value = NULL;
	unsigned len = 0;

	if (utils->getopt == NULL)
		return NULL;
	if (utils->getopt(utils->getopt_context, mech_name, name, &value,
			  &len) != SASL_OK)
		return NULL;
	return value;
}

void
mb_options_load(const sasl_utils_t *utils, const char *mech_name,
		struct mb_options *opts)
{
	const char *v;

	char *end = NULL;
	long n;

	memset(opts, 0, sizeof(*opts));
	opts->helper_timeout = MB_HELPER_TIMEOUT_DEFAULT;
	opts->strict_token = false;

	v = opt_get(utils, mech_name, "mailbearer_socket");
	if (v != NULL && v[0] != '\0') {
		if (strlen(v) < sizeof(opts->socket_path))
			memcpy(opts->socket_path, v, strlen(v) + 1);
		else
			mb_sasl_log(utils, SASL_LOG_WARN,
				    "%s: mailbearer_socket is longer than %u "
				    "bytes; ignored", mech_name,
				    (unsigned)sizeof(opts->socket_path) - 1);
	}
	v = opt_get(utils, mech_name, "mailbearer_timeout");
	if (v != NULL && v[0] != '\0') {
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno == 0 && *end == '\0' && n >= 1 &&
		    n <= MB_HELPER_TIMEOUT_MAX)
			opts->helper_timeout = (int)n;
		else
			mb_sasl_log(utils, SASL_LOG_WARN,
				    "%s: mailbearer_timeout "
				    "must be 1-%d seconds; using %d",
				    mech_name, MB_HELPER_TIMEOUT_MAX,
				    opts->helper_timeout);
	}
	v = opt_get(utils, mech_name, "mailbearer_strict_token");
	opts->strict_token = mb_opt_parse_bool(v, false);
}
