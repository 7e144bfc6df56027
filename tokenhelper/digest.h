/* SPDX-License-Identifier: MIT */
#ifndef MB_DIGEST_H
#define MB_DIGEST_H

/* Message digests from libcrypto (already a dependency for certificate
 * credentials): one implementation, never a hand-written copy. */

#include <stddef.h>

/* SHA-256 of data[0..len) into out.  0, or -1 if libcrypto failed. */
int mb_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
