/* SPDX-License-Identifier: MIT */
#ifndef MB_OPTIONS_H
#define MB_OPTIONS_H

/* Plugin options.  Every option has a compiled-in default; the
 * application's SASL_CB_GETOPT callback (utils->getopt) may override it.
 * A pure client process sees no SASL config file (libsasl2 reads it only
 * in sasl_server_init), and neither Postfix's smtp client nor mbsync
 * registers a getopt callback: so nothing here is ever required. */

#include <stdbool.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* mailbearer_timeout default and bounds, in seconds. */
#define MB_HELPER_TIMEOUT_DEFAULT 30
#define MB_HELPER_TIMEOUT_MAX 600

struct mb_options {
	/* mailbearer_socket: the token helper's UNIX socket (sizeof
	 * sun_path); empty when not set, and the helper client then looks
	 * further (helper-client.h). */
	char socket_path[108];
	/* mailbearer_timeout: seconds for one exchange with the helper
	 * (connect + request + answer), 1 to MB_HELPER_TIMEOUT_MAX. */
	int helper_timeout;
	/* mailbearer_strict_token: refuse tokens that are not RFC 6750
	 * b64token instead of only logging a warning (default no). */
	bool strict_token;
};

/* Fills *opts with the defaults, then with what utils->getopt returns
 * for plugin name mech_name (the mechanism, as Cyrus plugins do).
 * Values that do not fit or do not parse keep the default (logged). */
void mb_options_load(const sasl_utils_t *utils, const char *mech_name,
		     struct mb_options *opts);

/* Cyrus's lenient booleans: "1", "y...", "t...", "on" are true; "0",
 * "n...", "f...", "off" false; anything else (or NULL) gives def. */
bool mb_opt_parse_bool(const char *value, bool def);

#endif
