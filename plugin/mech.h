/* SPDX-License-Identifier: MIT */
#ifndef MB_MECH_H
#define MB_MECH_H

/* The plugin table (XOAUTH2 and OAUTHBEARER in one table) and the
 * per-connection state machine. */

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

/* The entry point behind sasl_client_plug_init (plugin/init.c): checks
 * the version and hands out the static plugin table (owned by the plugin,
 * never freed).  Never fails for configuration. */
int mb_client_plug_init(const sasl_utils_t *utils, int max_version,
			int *out_version, sasl_client_plug_t **pluglist,
			int *plugcount);

#endif
