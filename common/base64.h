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

#endif
