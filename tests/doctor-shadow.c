/* A libsasl2 client plugin for `mailbearer doctor`'s tests: XOAUTH2 with
 * flags that rank above ours (it claims NOPLAINTEXT, which a bearer token
 * does not have), so libsasl2 chooses it first: the shadowing doctor
 * must report.  It is never asked to log in. */

#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

static int
shadow_new(void *glob_context, sasl_client_params_t *params,
	   void **conn_context)
{
	return SASL_FAIL;
}

static sasl_client_plug_t shadow_plugins[] = {
	{
		.mech_name = "XOAUTH2",
		.security_flags = SASL_SEC_NOANONYMOUS |
			SASL_SEC_NOPLAINTEXT | SASL_SEC_PASS_CREDENTIALS,
		.features = SASL_FEAT_WANT_CLIENT_FIRST,
		.mech_new = shadow_new,
	},
};

int sasl_client_plug_init(const sasl_utils_t *utils, int maxversion,
			  int *out_version, sasl_client_plug_t **pluglist,
			  int *plugcount);

int
sasl_client_plug_init(const sasl_utils_t *utils, int maxversion,
		      int *out_version, sasl_client_plug_t **pluglist,
		      int *plugcount)
{
	if (maxversion < SASL_CLIENT_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_CLIENT_PLUG_VERSION;
	*pluglist = shadow_plugins;
	*plugcount = 1;
	return SASL_OK;
}
