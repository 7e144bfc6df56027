/* SPDX-License-Identifier: MIT */
#ifndef MB_WIPE_H
#define MB_WIPE_H

#include <stddef.h>

/* Overwrite len bytes at p with zeros in a way the compiler may not elide.
 * NULL-safe.  Used for every buffer that held a token or a secret. */
void mb_wipe(void *p, size_t len);

#endif
