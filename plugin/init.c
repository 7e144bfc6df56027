#include "config.h"
#include <sasl/sasl.h>
#include <sasl/saslplug.h>
int sasl_client_plug_init(const sasl_utils_t *utils, int max_version, int *out_version, sasl_client_plug_t **pluglist, int *plugcount);
int sasl_client_plug_init(const sasl_utils_t *utils, int max_version, int *out_version, sasl_client_plug_t **pluglist, int *plugcount) { (void)utils;(void)max_version;(void)out_version;(void)pluglist;(void)plugcount; return SASL_FAIL; }
