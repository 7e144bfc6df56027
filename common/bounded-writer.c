/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "bounded-writer.h"

#include <string.h>

void
mb_bw_put(struct mb_bw *w, const char *s, size_t n)
{
	if (w->size > 0 && w->len < w->size - 1) {
		size_t room = w->size - 1 - w->len;

		memcpy(w->buf + w->len, s, n < room ? n : room);
	}
	w->len += n;
}

void
mb_bw_puts(struct mb_bw *w, const char *s)
{
	mb_bw_put(w, s, strlen(s));
}

size_t
mb_bw_finish(struct mb_bw *w)
{
	if (w->size > 0)
		w->buf[w->len < w->size - 1 ? w->len : w->size - 1] = '\0';
	return w->len;
}
