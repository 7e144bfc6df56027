/* libFuzzer target: the token endpoint's reply parser
 * (tokenhelper/json.c mb_json_parse_token_reply), and the device
 * authorization reply parser beside it. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_token_reply r;
	struct mb_device_reply d;
	char *error = NULL;

	mb_json_parse_token_reply((const char *)data, size, &r, &error);
	mb_token_reply_clear(&r);
	free(error);
	error = NULL;
	mb_json_parse_device_reply((const char *)data, size, &d, &error);
	mb_device_reply_clear(&d);
	free(error);
	return 0;
}
