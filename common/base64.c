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

size_t
mb_base64url_decoded_len(size_t len)
{
	if (len % 4 == 1)
		return (size_t)-1;
	return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

/* The value of c in the URL alphabet (url) or the standard one, or -1. */
static int
b64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static size_t
b64_decode(void *out, size_t size, const char *in, size_t len, bool url)
{
	size_t need = mb_base64url_decoded_len(len), i, o = 0;
	unsigned char *p = out;
	unsigned acc = 0;
	int bits = 0, v;

	if (need == (size_t)-1 || need > size)
		return (size_t)-1;
	for (i = 0; i < len; i++) {
		v = b64_value((unsigned char)in[i], url);
		if (v < 0)
			return (size_t)-1;
		acc = ((acc << 6) | (unsigned)v) & 0xfff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* the bits left over must be zero: one text per byte string */
	if ((acc & ((1u << bits) - 1)) != 0)
		return (size_t)-1;
	return o;
}

size_t
mb_base64url_decode(void *out, size_t size, const char *in, size_t len)
{
	return b64_decode(out, size, in, len, true);
}

size_t
mb_base64_decode(void *out, size_t size, const char *in, size_t len)
{
	/* padded to a multiple of 4 with at most two '=' */
	if (len % 4 != 0)
		return (size_t)-1;
	if (len > 0 && in[len - 1] == '=')
		len--;
	if (len > 0 && in[len - 1] == '=')
		len--;
	return b64_decode(out, size, in, len, false);
}
