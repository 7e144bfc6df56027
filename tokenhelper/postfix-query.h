/* SPDX-License-Identifier: MIT */
#ifndef MB_POSTFIX_QUERY_H
#define MB_POSTFIX_QUERY_H

/* Asking Postfix's own tools (postconf, postmap) about its configuration,
 * for `mailbearer doctor --postfix-config`: what they print, and, when
 * they fail, why (their "fatal:" line), so that a failed lookup is never
 * mistaken for an empty answer. */

#include <stddef.h>

struct mb_pf_out {
	char *out;	/* standard output, NUL-terminated, trailing
			 * newlines dropped (at most the size asked for) */
	size_t size;	/* of out */
	char err[512];	/* the last line of standard error, or "" */
	int status;	/* exit status; 127: could not run */
};

/* Runs prog with "-c dir" (dir may be NULL: Postfix's default) and the
 * NULL-terminated args (at most 8), its stdin on /dev/null, reading at most
 * max - 1 bytes of its output into r->out (malloc'd; free with
 * mb_pf_out_free, which wipes it: postmap prints passwords).  Returns
 * r->status. */
int mb_pf_run(const char *dir, const char *prog, const char *const *args,
	      size_t max, struct mb_pf_out *r);

/* Wipes and frees r->out. */
void mb_pf_out_free(struct mb_pf_out *r);

#endif
