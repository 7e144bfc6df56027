/* SPDX-License-Identifier: MIT */
#include <config.h>
#ifdef MB_ERRSTR_TEST_XSI
/* tests/unit/test-leak-errstr-xsi: the XSI branch on a GNU C library (nothing
 * of the C library is included yet, so this still takes effect). */
#undef _GNU_SOURCE
#undef STRERROR_R_CHAR_P
#endif

#include "errstr.h"

#include <string.h>

static const char mb_unknown_error[] = "unknown error";

const char *
mb_strerror(int err, char *buf, size_t size)
{
	const char *s;

	if (buf == NULL || size == 0)
		return mb_unknown_error;
	buf[0] = '\0';
#ifdef STRERROR_R_CHAR_P
	/* GNU: may return a static string and leave buf alone. */
	s = strerror_r(err, buf, size);
#else
	/* XSI: 0, or an error number (-1 and errno before glibc 2.13);
	 * ERANGE may leave a truncated text. */
	s = strerror_r(err, buf, size) == 0 ? buf : NULL;
#endif
	if (s == NULL || s[0] == '\0')
		return mb_unknown_error;
	return s;
}
