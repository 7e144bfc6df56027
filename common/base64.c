/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "base64.h"

#include <stdbool.h>

static const char b64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
mb_base64_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

size_t
mb_base64url_len(size_t len)
{
	return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}

static size_t
b64_encode(char *out, size_t size, const unsigned char *in, size_t len,
	   const char *alphabet, bool pad)
{
	size_t need = pad ? mb_base64_len(len) : mb_base64url_len(len);
	size_t i, o = 0;

	if (size <= need) {
		if (size > 0)
			out[0] = '\0';
		return need;
	}
	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = alphabet[in[i] >> 2];
		out[o++] = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = alphabet[in[i + 2] & 63];
	}
	if (i < len) {
		out[o++] = alphabet[in[i] >> 2];
		if (i + 1 < len) {
			out[o++] = alphabet[((in[i] & 3) << 4) |
					    (in[i + 1] >> 4)];
			out[o++] = alphabet[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = alphabet[(in[i] & 3) << 4];
			if (pad)
				out[o++] = '=';
		}
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
mb_base64_encode(char *out, size_t size, const void *in, size_t len)
{
	return b64_encode(out, size, in, len, b64_std, true);
}

size_t
mb_base64url_encode(char *out, size_t size, const void *in, size_t len)
{
	return b64_encode(out, size, in, len, b64_url, false);
}
