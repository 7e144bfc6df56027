/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "wipe.h"

#include <string.h>

/* A volatile function pointer keeps the optimiser from proving the
 * memset dead, without depending on explicit_bzero (glibc >= 2.25 only). */
static void *(*const volatile mb_memset)(void *, int, size_t) = memset;

void
mb_wipe(void *p, size_t len)
{
	if (p == NULL || len == 0)
		return;
	mb_memset(p, 0, len);
}
