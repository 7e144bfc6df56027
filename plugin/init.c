/* SPDX-License-Identifier: MIT */
/* The only symbol libmailbearer.so exports: libsasl2 dlsym()s
 * "sasl_client_plug_init" and nothing else.  It forwards to the internal
 * entry point so that everything else stays hidden (libtool's
 * -export-symbols-regex; `nm -D` shows this one name, see
 * tests/integration/test-load.sh). */
#include <config.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "mech.h"

int sasl_client_plug_init(const sasl_utils_t *utils, int max_version,
			  int *out_version, sasl_client_plug_t **pluglist,
			  int *plugcount);

int
sasl_client_plug_init(const sasl_utils_t *utils, int max_version,
		      int *out_version, sasl_client_plug_t **pluglist,
		      int *plugcount)
{
	return mb_client_plug_init(utils, max_version, out_version, pluglist,
				   plugcount);
}
