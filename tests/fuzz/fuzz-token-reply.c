/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the token endpoint's reply parser
 * (tokenhelper/json.c mb_json_parse_token_reply), the device
 * authorization reply parser beside it, and the id_token of a reply
 * (tokenhelper/id-token.c), taken from the reply and checked. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "id-token.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_id_token(const char *data, size_t size)
{
	struct mb_id_expect x = {
		.provider = "microsoft", .client_id = "cid",
		.token_endpoint = "https://login.example/t/oauth2/v2.0/token",
		.nonce = "n", .user = "alice@example.com", .now = 1800000000,
	};
	char *jwt = mb_id_token_from_reply(data, size), *who, *why;

	if (jwt == NULL)
		return;
	mb_id_token_check(jwt, &x, &who, &why);
	free(who);
	free(why);
	x.provider = "google";
	mb_id_token_check(jwt, &x, &who, &why);
	free(who);
	free(why);
	free(jwt);
}

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
	fuzz_id_token((const char *)data, size);
	return 0;
}
