/* SPDX-License-Identifier: MIT */
/*
 * common/errstr.c: mb_strerror() gives the C library's text for an errno
 * value from any thread, with the GNU strerror_r (the normal build on
 * glibc) and with the XSI one (tests/unit/test-leak-errstr-xsi: this file and
 * errstr.c built with MB_ERRSTR_TEST_XSI), never writes past
 * the buffer and never returns NULL or "".
 */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "errstr.h"
#include "tap.h"

static void
check_fits(int err, size_t size, const char *label)
{
	char buf[64];
	const char *s;

	memset(buf, 'Z', sizeof(buf));
	s = mb_strerror(err, buf, size);
	tap_ok(s != NULL && s[0] != '\0', "%s: a text", label);
	tap_ok(buf[size] == 'Z' && buf[sizeof(buf) - 1] == 'Z',
	       "%s: nothing written past %zu bytes", label, size);
	if (s == buf)
		tap_ok(memchr(buf, '\0', size) != NULL,
		       "%s: NUL-terminated inside the buffer", label);
	else
		tap_ok(1, "%s: a static text", label);
}

int
main(void)
{
	char buf[128];

	tap_is_str(mb_strerror(ENOENT, buf, sizeof(buf)),
		   "No such file or directory", "ENOENT");
	tap_is_str(mb_strerror(EACCES, buf, sizeof(buf)),
		   "Permission denied", "EACCES");
	tap_ok(strlen(mb_strerror(123456, buf, sizeof(buf))) > 0,
	       "an unknown number still gets a text");
	tap_is_str(mb_strerror(ENOENT, buf, 0), "unknown error",
		   "no buffer: a static text");
	tap_is_str(mb_strerror(ENOENT, NULL, 16), "unknown error",
		   "NULL buffer: a static text");
	check_fits(ENOENT, 4, "4-byte buffer");
	check_fits(ECONNREFUSED, 1, "1-byte buffer");
	check_fits(EAGAIN, 40, "40-byte buffer");
	return tap_done();
}
