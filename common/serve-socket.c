/* SPDX-License-Identifier: MIT */
#include <config.h>

#include "serve-socket.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>	/* snprintf only */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef MB_SOCKET_PATH
#define MB_SOCKET_PATH "/run/mailbearer/socket"
#endif

#define MB_SOCK_USER_TAIL "/mailbearer/socket"

const char *
mb_sock_system_path(void)
{
	return MB_SOCKET_PATH;
}

static int
sock_put(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s%s", a, b);

	return n >= 0 && (size_t)n < size ? 0 : -1;
}

static int
sock_is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int
mb_sock_client_path(const char *explicit_path, char *buf, size_t size,
		    enum mb_sock_from *from_r)
{
	const char *env = secure_getenv("MAILBEARER_SOCKET");
	const char *rt = secure_getenv("XDG_RUNTIME_DIR");
	enum mb_sock_from from_dummy;

	if (from_r == NULL)
		from_r = &from_dummy;
	if (explicit_path != NULL && explicit_path[0] != '\0') {
		*from_r = MB_SOCK_EXPLICIT;
		return sock_put(buf, size, explicit_path, "");
	}
	if (env != NULL && env[0] != '\0') {
		*from_r = MB_SOCK_ENV;
		return sock_put(buf, size, env, "");
	}
	if (rt != NULL && rt[0] == '/' &&
	    sock_put(buf, size, rt, MB_SOCK_USER_TAIL) == 0 &&
	    sock_is_socket(buf)) {
		*from_r = MB_SOCK_USER;
		return 0;
	}
	*from_r = MB_SOCK_SYSTEM;
	return sock_put(buf, size, MB_SOCKET_PATH, "");
}

void
mb_sock_fallback_why(char *buf, size_t size)
{
	const char *rt = secure_getenv("XDG_RUNTIME_DIR");
	char usual[64];

	if (size == 0)
		return;
	buf[0] = '\0';
	if (rt != NULL && rt[0] == '/') {
		snprintf(buf, size, "the system socket: there is no per-user "
			 "socket %.100s" MB_SOCK_USER_TAIL, rt);
	} else if (rt != NULL && rt[0] != '\0') {
		snprintf(buf, size, "the system socket: XDG_RUNTIME_DIR is not "
			 "an absolute path, so no per-user socket was looked "
			 "for; set MAILBEARER_SOCKET or mailbearer_socket to "
			 "choose one");
	} else {
		snprintf(usual, sizeof(usual),
			 "/run/user/%u" MB_SOCK_USER_TAIL, (unsigned)getuid());
		if (sock_is_socket(usual))
			snprintf(buf, size, "the system socket: "
				 "XDG_RUNTIME_DIR is not set, so the per-user "
				 "socket %s was not used; set XDG_RUNTIME_DIR, "
				 "MAILBEARER_SOCKET or mailbearer_socket",
				 usual);
	}
}

int
mb_sock_serve_path(char *buf, size_t size)
{
	const char *rt;

	if (geteuid() == 0)
		return sock_put(buf, size, MB_SOCKET_PATH, "");
	rt = secure_getenv("XDG_RUNTIME_DIR");
	if (rt == NULL || rt[0] != '/')
		return -1;
	return sock_put(buf, size, rt, MB_SOCK_USER_TAIL);
}

static long
sock_ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(deadline->tv_sec - now.tv_sec) * 1000 +
		(deadline->tv_nsec - now.tv_nsec) / 1000000;
}

int
mb_sock_connect(const char *path, const struct timespec *deadline,
		int *err_r)
{
	struct sockaddr_un sa;
	int fd, err;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		*err_r = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err_r = errno;
		return -1;
	}
	for (;;) {
		struct pollfd p = { fd, POLLOUT, 0 };
		socklen_t l = sizeof(err);
		long left;

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = errno;
		if (err == EINTR)
			continue;
		left = sock_ms_left(deadline);
		if (err == EAGAIN) {
			/* the listen queue is full: the server is busy */
			struct timespec ts = { 0, 50 * 1000000L };

			if (left <= 0)
				break;
			nanosleep(&ts, NULL);
			continue;
		}
		if (err != EINPROGRESS)
			break;
		err = ETIMEDOUT;
		while (left > 0) {
			int rc = poll(&p, 1, (int)left);

			if (rc > 0) {
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
					       &l) < 0)
					err = errno;
				break;
			}
			if (rc < 0 && errno != EINTR) {
				err = errno;
				break;
			}
			left = sock_ms_left(deadline);
		}
		if (err == 0)
			return fd;
		break;
	}
	close(fd);
	*err_r = err;
	return -1;
}
