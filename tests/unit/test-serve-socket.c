/* SPDX-License-Identifier: MIT */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "serve-socket.h"
#include "tap.h"

/* common/serve-socket.c: which socket of serve the plugin, status and
 * doctor use (explicit, $MAILBEARER_SOCKET, the per-user socket if it is
 * there, the system socket), where serve listens by default, when the
 * fallback to the system socket is explained, and connecting. */

static char dir[] = "/tmp/mb-test-serve-socket.XXXXXX";

/* A listening socket at path; its descriptor. */
static int
listen_at(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		tap_diag("cannot listen at %s", path);
		exit(1);
	}
	return fd;
}

static void
test_client_path(void)
{
	char buf[256], want[256], user[256];
	enum mb_sock_from from;

	unsetenv("MAILBEARER_SOCKET");
	unsetenv("XDG_RUNTIME_DIR");
	tap_is_int(mb_sock_client_path(NULL, buf, sizeof(buf), &from), 0,
		   "nothing set: 0");
	tap_is_str(buf, mb_sock_system_path(), "... the system socket");
	tap_is_int(from, MB_SOCK_SYSTEM, "... from the system rule");

	setenv("XDG_RUNTIME_DIR", dir, 1);
	mb_sock_client_path("", buf, sizeof(buf), &from);
	tap_is_str(buf, mb_sock_system_path(),
		   "XDG_RUNTIME_DIR without a socket: the system socket");
	snprintf(user, sizeof(user), "%s/mailbearer", dir);
	mkdir(user, 0700);
	snprintf(user, sizeof(user), "%s/mailbearer/socket", dir);
	close(listen_at(user));
	mb_sock_client_path(NULL, buf, sizeof(buf), &from);
	tap_is_str(buf, user, "a socket at XDG_RUNTIME_DIR/mailbearer/socket");
	tap_is_int(from, MB_SOCK_USER, "... from the per-user rule");
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	mb_sock_client_path(NULL, buf, sizeof(buf), &from);
	tap_is_int(from, MB_SOCK_SYSTEM, "a relative XDG_RUNTIME_DIR: "
		   "system");
	setenv("XDG_RUNTIME_DIR", dir, 1);

	setenv("MAILBEARER_SOCKET", "/env/sock", 1);
	mb_sock_client_path(NULL, buf, sizeof(buf), &from);
	tap_is_str(buf, "/env/sock", "MAILBEARER_SOCKET over the per-user "
		   "socket");
	tap_is_int(from, MB_SOCK_ENV, "... from the environment");
	mb_sock_client_path("/opt/sock", buf, sizeof(buf), &from);
	tap_is_str(buf, "/opt/sock", "the explicit path over everything");
	tap_is_int(from, MB_SOCK_EXPLICIT, "... explicit");
	tap_is_int(mb_sock_client_path("/a/long/path", buf, 5, NULL), -1,
		   "a path that does not fit: -1");
	snprintf(want, sizeof(want), "%.4s", "/a/long/path");
	tap_is_str(buf, want, "... truncated");
	unsetenv("MAILBEARER_SOCKET");
	unlink(user);
}

static void
test_fallback_why(void)
{
	char why[512], usual[128];
	struct stat st;

	unsetenv("XDG_RUNTIME_DIR");
	snprintf(usual, sizeof(usual), "/run/user/%u/mailbearer/socket",
		 (unsigned)getuid());
	mb_sock_fallback_why(why, sizeof(why));
	if (stat(usual, &st) == 0 && S_ISSOCK(st.st_mode))
		tap_has_str(why, usual, "no XDG_RUNTIME_DIR, a socket at the "
			    "usual place: named");
	else
		tap_is_str(why, "", "no XDG_RUNTIME_DIR (a daemon such as "
			   "Postfix's smtp): no explanation");
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	mb_sock_fallback_why(why, sizeof(why));
	tap_has_str(why, "XDG_RUNTIME_DIR is not an absolute path",
		    "a relative XDG_RUNTIME_DIR: said");
	setenv("XDG_RUNTIME_DIR", dir, 1);
	mb_sock_fallback_why(why, sizeof(why));
	tap_has_str(why, "there is no per-user socket", "an XDG_RUNTIME_DIR "
		    "without a socket: said");
	tap_has_str(why, dir, "... with its path");
}

static void
test_serve_path(void)
{
	char buf[256], want[256];

	setenv("XDG_RUNTIME_DIR", dir, 1);
	snprintf(want, sizeof(want), "%s/mailbearer/socket", dir);
	tap_is_int(mb_sock_serve_path(buf, sizeof(buf)), 0, "serve: 0");
	tap_is_str(buf, geteuid() == 0 ? mb_sock_system_path() : want,
		   "... the system socket for root, else the per-user one");
	unsetenv("XDG_RUNTIME_DIR");
	tap_is_int(mb_sock_serve_path(buf, sizeof(buf)),
		   geteuid() == 0 ? 0 : -1,
		   "no XDG_RUNTIME_DIR: only root has a default");
}

static void
test_connect(void)
{
	struct timespec deadline;
	char path[256], big[200];
	int lfd, fd, err = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 5;
	snprintf(path, sizeof(path), "%s/c.sock", dir);
	fd = mb_sock_connect(path, &deadline, &err);
	tap_ok(fd < 0 && err == ENOENT, "no socket: -1, ENOENT");
	lfd = listen_at(path);
	fd = mb_sock_connect(path, &deadline, &err);
	tap_ok(fd >= 0, "a listener: connected");
	if (fd >= 0)
		close(fd);
	close(lfd);
	fd = mb_sock_connect(path, &deadline, &err);
	tap_ok(fd < 0 && err == ECONNREFUSED, "nobody listening: "
	       "ECONNREFUSED");
	unlink(path);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fd = mb_sock_connect(big, &deadline, &err);
	tap_ok(fd < 0 && err == ENAMETOOLONG, "a path too long: "
	       "ENAMETOOLONG");
}

int
main(void)
{
	char sub[300];

	if (mkdtemp(dir) == NULL)
		tap_skip_all("mkdtemp failed");
	test_client_path();
	test_fallback_why();
	test_serve_path();
	test_connect();
	snprintf(sub, sizeof(sub), "%s/mailbearer", dir);
	rmdir(sub);
	rmdir(dir);
	return tap_done();
}
