/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the plugin's error-challenge parser and its
 * description (plugin/xoauth2-msg.c), as mb_step_sent() uses them. */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "sasl-log.h"
#include "token-rule.h"
#include "xoauth2-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mb_xo_error err;
	char detail[MB_SASL_LOG_MAX];
	char small[16];
	bool strict;
	const char *v;
	size_t vlen;

	mb_xo_parse_error((const char *)data, size, &err);
	mb_xo_describe_error(detail, sizeof(detail), MB_XO_XOAUTH2,
			     "user@example.com", 16, &err);
	mb_xo_describe_error(detail, sizeof(detail), MB_XO_OAUTHBEARER,
			     (const char *)data, size, &err);
	mb_xo_sanitize(small, sizeof(small), (const char *)data, size);
	mb_xo_check_user((const char *)data, size);
	mb_xo_check_token((const char *)data, size, &strict);
	mb_ts_trim((const char *)data, size);
	mb_ts_classify((const char *)data, size, &v, &vlen);
	mb_xo_parse_port((const char *)data, size);
	mb_xo_host_ok((const char *)data, size);
	return 0;
}
