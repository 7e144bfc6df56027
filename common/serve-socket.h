/* SPDX-License-Identifier: MIT */
#ifndef MB_SERVE_SOCKET_H
#define MB_SERVE_SOCKET_H

/* Which UNIX socket of `mailbearer serve` is used, written once for the
 * plugin (plugin/helper-client.c), status, doctor and serve itself, and
 * the client side of connecting to it.  No allocation, no stdio: the
 * plugin runs in the mail client's process.
 *
 * A client (the plugin, status, doctor) uses, first found wins:
 *   1. the socket given explicitly: the SASL option mailbearer_socket,
 *      or --socket;
 *   2. $MAILBEARER_SOCKET (ignored in set-uid/set-gid programs);
 *   3. $XDG_RUNTIME_DIR/mailbearer/socket, if a socket is there;
 *   4. the system socket (configure --with-socket).
 * serve, without --socket, listens on the system socket when run as root,
 * else on $XDG_RUNTIME_DIR/mailbearer/socket.
 * In a chroot (Postfix's smtp(8)) the same paths are looked up inside
 * it: the socket must be created under the chroot directory. */

#include <stddef.h>
#include <time.h>

enum mb_sock_from {
	MB_SOCK_EXPLICIT,	/* 1. */
	MB_SOCK_ENV,		/* 2. */
	MB_SOCK_USER,		/* 3. */
	MB_SOCK_SYSTEM,		/* 4. */
};

/* The compiled-in system socket. */
const char *mb_sock_system_path(void);

/* The path a client uses (the rule above; explicit may be NULL or "")
 * into buf, and in *from_r (may be NULL) which rule chose it.  Returns 0,
 * or -1 when it does not fit (buf then holds a truncated path). */
int mb_sock_client_path(const char *explicit_path, char *buf, size_t size,
			enum mb_sock_from *from_r);

/* Why a client fell back to the system socket (MB_SOCK_SYSTEM), into buf,
 * only where it helps: XDG_RUNTIME_DIR set but holding no socket, or not
 * an absolute path, or unset while a per-user socket waits at the usual
 * /run/user/UID/mailbearer/socket.  "" otherwise: a daemon (Postfix's
 * smtp(8), cron) has no XDG_RUNTIME_DIR and means the system socket. */
void mb_sock_fallback_why(char *buf, size_t size);

/* Where serve listens without --socket (the rule above) into buf.
 * Returns 0, or -1 when not root and XDG_RUNTIME_DIR is unset or not
 * absolute, or the path does not fit. */
int mb_sock_serve_path(char *buf, size_t size);

/* Connects a UNIX stream socket to path before deadline (CLOCK_MONOTONIC;
 * a full listen queue, EAGAIN, is retried until then).  Returns the
 * descriptor (non-blocking, close-on-exec), or -1 with *err_r set to an
 * errno value (ENAMETOOLONG for a path too long for a UNIX socket,
 * ETIMEDOUT, ECONNREFUSED, ENOENT, EACCES, ...). */
int mb_sock_connect(const char *path, const struct timespec *deadline,
		    int *err_r);

#endif
