/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe-open.h"
#include "store.h"
#include "tap.h"

/* tokenhelper/safe-open.c: one way to open a file that must be regular,
 * with an explicit symbolic-link policy and one device policy: a FIFO
 * (like a device) is never opened, whichever caller (the state files
 * through mb_store_open_regular, the configuration through conf.c).  An
 * inotify watch on the FIFO sees any open(2) of it. */

static char dir[] = "/tmp/mb-test-safe-open.XXXXXX";

/* Whether path was opened since the watch wd on ino was set. */
static int
opened(int ino)
{
	char buf[4096];
	ssize_t n = read(ino, buf, sizeof(buf));

	return n > 0;
}

static void
test_fifo_never_opened(void)
{
	char fifo[300], link[300], *err = NULL;
	int ino, fd;

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	if (mkfifo(fifo, 0600) < 0 || symlink(fifo, link) < 0) {
		tap_diag("mkfifo/symlink: %s", strerror(errno));
		exit(1);
	}
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ino < 0 || inotify_add_watch(ino, fifo, IN_OPEN) < 0) {
		tap_skip(6, "no inotify");
		return;
	}
	fd = mb_store_open_regular(fifo, O_RDONLY, 0, "state file", &err);
	tap_ok(fd < 0 && errno == EINVAL, "a FIFO as the state file: "
	       "refused");
	tap_has_str(err ? err : "", "is a FIFO (named pipe), not a regular "
		    "file", "... said");
	tap_ok(!opened(ino), "... without opening it");
	free(err);
	fd = mb_open_regular(link, O_RDONLY, 0, MB_OPEN_FOLLOW, "the "
			     "configuration", NULL, &err);
	tap_ok(fd < 0 && err != NULL && strstr(err, "FIFO") != NULL,
	       "a link to a FIFO, followed: refused as a FIFO");
	tap_ok(!opened(ino), "... without opening it");
	free(err);
	fd = mb_open_regular(fifo, O_RDWR | O_CREAT, 0600, MB_OPEN_NOFOLLOW,
			     "the lock file", NULL, &err);
	tap_ok(fd < 0 && !opened(ino), "O_CREAT on a FIFO: refused, not "
	       "opened");
	free(err);
	close(ino);
}

static void
test_policies(void)
{
	char reg[300], link[300], missing[300], *err = NULL;
	struct stat st;
	int fd;

	snprintf(reg, sizeof(reg), "%s/reg", dir);
	snprintf(link, sizeof(link), "%s/reglink", dir);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	fd = open(reg, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1 || symlink(reg, link) < 0)
		exit(1);
	close(fd);
	fd = mb_open_regular(reg, O_RDONLY, 0, MB_OPEN_NOFOLLOW, "f", &st,
			     &err);
	tap_ok(fd >= 0 && err == NULL && st.st_size == 1, "a regular file: "
	       "opened, its stat returned");
	tap_ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0,
	       "... blocking again");
	if (fd >= 0)
		close(fd);
	fd = mb_open_regular(link, O_RDONLY, 0, MB_OPEN_NOFOLLOW, "the state "
			     "file", NULL, &err);
	tap_ok(fd < 0 && errno == ELOOP, "NOFOLLOW: a symbolic link refused");
	tap_has_str(err ? err : "", "the state file is a symbolic link",
		    "... said");
	free(err);
	fd = mb_open_regular(link, O_RDONLY, 0, MB_OPEN_FOLLOW, "c", NULL,
			     &err);
	tap_ok(fd >= 0, "FOLLOW: a link to a regular file opened");
	if (fd >= 0)
		close(fd);
	fd = mb_open_regular(missing, O_RDONLY, 0, MB_OPEN_MISSING_OK, "m",
			     NULL, &err);
	tap_ok(fd < 0 && errno == ENOENT && err == NULL, "MISSING_OK: "
	       "ENOENT, no message");
	fd = mb_open_regular(missing, O_RDONLY, 0, MB_OPEN_FOLLOW, "the "
			     "configuration", NULL, &err);
	tap_has_str(err ? err : "", "cannot open the configuration: ",
		    "otherwise missing is an error");
	free(err);
	fd = mb_open_regular("/dev/null", O_RDONLY, 0, MB_OPEN_FOLLOW, "n",
			     NULL, &err);
	tap_ok(fd < 0 && err != NULL && strstr(err, "n is a character "
	       "device") != NULL, "a device refused");
	free(err);
	unlink(link);
	unlink(reg);
}

int
main(void)
{
	char p[300];

	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp failed");
	test_fifo_never_opened();
	test_policies();
	snprintf(p, sizeof(p), "%s/link", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	unlink(p);
	rmdir(dir);
	return tap_done();
}
