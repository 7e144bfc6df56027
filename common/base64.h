/* SPDX-License-Identifier: MIT */
#ifndef MB_BASE64_H
#define MB_BASE64_H

/* RFC 4648 base64 encoding, section 4 (with "=" padding) and section 5
 * (base64url, without padding, as JWTs and PKCE use it).  Pure code: no
 * allocation, no I/O, so the plugin and the helper share it. */

#include <stddef.h>

/* Length of the encoding of len bytes, without the NUL. */
size_t mb_base64_len(size_t len);
size_t mb_base64url_len(size_t len);

/* Encode in[0..len) into out and NUL-terminate it.  Returns the length of
 * the encoding without the NUL.  When out cannot hold it and the NUL
 * (size <= the length), nothing is encoded, out becomes "" (if size > 0)
 * and the length is still returned: call with size 0 to learn it. */
size_t mb_base64_encode(char *out, size_t size, const void *in, size_t len);
size_t mb_base64url_encode(char *out, size_t size, const void *in,
			   size_t len);

/* Length of what len base64url characters (no padding) decode to, or
 * (size_t)-1 when no encoding has that length (len % 4 == 1). */
size_t mb_base64url_decoded_len(size_t len);
/* Decode base64url without padding, in[0..len), into out (size bytes).
 * Strict, so that each byte string has exactly one accepted text (RFC
 * 4648 section 3.5 lets a decoder require it): only the 64 characters of
 * the URL alphabet, no padding or white space, and the unused low bits
 * of the last character zero.  Returns the number of bytes decoded, or
 * (size_t)-1 for such a text or when out is too small (out then holds
 * nothing meaningful). */
size_t mb_base64url_decode(void *out, size_t size, const char *in,
			   size_t len);
/* The same for standard base64 (RFC 4648 section 4, "+/", padded with
 * "=" to a multiple of 4 characters), as etcd's JSON gateway sends
 * bytes. */
size_t mb_base64_decode(void *out, size_t size, const char *in, size_t len);

#endif
