/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "digest.h"

#include <openssl/evp.h>

int
mb_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != 32)
		return -1;
	return 0;
}
