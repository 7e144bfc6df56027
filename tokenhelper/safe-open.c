/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "safe-open.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "errtext.h"
#include "xalloc.h"

const char *
mb_file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "a special file";
}

static int
open_fail(int fd, int err, char **error_r, char *msg)
{
	if (fd >= 0)
		close(fd);
	*error_r = msg;
	errno = err;
	return -1;
}

static char *
open_kind_error(const char *label, mode_t mode)
{
	return mb_xasprintf("%s is %s, not a regular file; remove it or "
			    "replace it with a regular file", label,
			    mb_file_kind(mode));
}

static char *
open_link_error(const char *label)
{
	return mb_xasprintf("%s is a symbolic link; refusing to follow it, "
			    "replace it with the file itself", label);
}

int
mb_open_regular(const char *path, int flags, mode_t mode, unsigned policy,
		const char *label, struct stat *st_r, char **error_r)
{
	bool follow = (policy & MB_OPEN_FOLLOW) != 0;
	struct stat st;
	int fd, fl, e;

	*error_r = NULL;
	/* look before opening: a device is never opened */
	if ((follow ? stat(path, &st) : lstat(path, &st)) == 0) {
		if (!follow && S_ISLNK(st.st_mode))
			return open_fail(-1, ELOOP, error_r,
					 open_link_error(label));
		if (!S_ISREG(st.st_mode))
			return open_fail(-1, EINVAL, error_r,
					 open_kind_error(label, st.st_mode));
	}
	fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
		  (follow ? 0 : O_NOFOLLOW), mode);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT && (policy & MB_OPEN_MISSING_OK) != 0)
			return open_fail(-1, e, error_r, NULL);
		if (e == ELOOP && !follow)
			return open_fail(-1, e, error_r,
					 open_link_error(label));
		return open_fail(-1, e, error_r, mb_xasprintf(
			"cannot open %s: %s", label, mb_errstr(e)));
	}
	if (fstat(fd, &st) < 0) {
		e = errno;
		return open_fail(fd, e, error_r, mb_xasprintf(
			"cannot stat %s: %s", label, mb_errstr(e)));
	}
	if (!S_ISREG(st.st_mode))
		return open_fail(fd, EINVAL, error_r,
				 open_kind_error(label, st.st_mode));
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = errno;
		return open_fail(fd, e, error_r, mb_xasprintf(
			"cannot use %s: %s", label, mb_errstr(e)));
	}
	if (st_r != NULL)
		*st_r = st;
	return fd;
}
