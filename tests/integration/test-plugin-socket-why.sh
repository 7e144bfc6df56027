#!/bin/sh
# SPDX-License-Identifier: MIT
# The plugin's fallback to the system socket is never silent: with no
# mailbearer_socket and no MAILBEARER_SOCKET, a client whose per-user
# socket was not found (no XDG_RUNTIME_DIR, or nothing at
# $XDG_RUNTIME_DIR/mailbearer/socket) uses the compiled-in system socket,
# and a failure says so and why where that helps (doc/plugin.md, "Which
# socket"): XDG_RUNTIME_DIR set without a socket, or not absolute, or
# unset while a per-user socket waits at /run/user/UID.  Without
# XDG_RUNTIME_DIR otherwise (a daemon: Postfix's smtp(8)) the system
# socket is the intended one and nothing is added.  An explicit socket
# gets no note.  imtest (XOAUTH2, empty password)
# against the private Dovecot; no serve runs anywhere.  On a host where
# an installed serve listens at the system socket, the test runs (as
# root) in a private mount namespace with an empty tmpfs over that
# socket's directory: the host's serve is neither seen nor disturbed.
if [ -z "${MB_SOCKWHY_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    unshare --mount --propagation private true 2> /dev/null; then
	MB_SOCKWHY_NS=1 exec unshare --mount --propagation private \
		sh "$0" "$@"
fi
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
need_helper
e2e_setup imtest
# The compiled-in system socket, as serve --help states it.
SYSSOCK=$("$MB_HELPER" serve --help 2>&1 |
	sed -n 's/^Default socket: \(\/[^ ]*\) (root).*/\1/p')
if [ -n "$SYSSOCK" ] && [ -S "$SYSSOCK" ] &&
    [ -n "${MB_SOCKWHY_NS:-}" ]; then
	mount -t tmpfs -o size=1m,mode=755 mbsockwhy "${SYSSOCK%/*}" ||
		bail_out "cannot hide ${SYSSOCK%/*} in the private namespace"
fi
[ -n "$SYSSOCK" ] && [ -S "$SYSSOCK" ] &&
	skip_all "a serve is listening at $SYSSOCK (no private namespace)"
check "serve --help names the system socket" test -n "$SYSSOCK"
user=ulla@example.com

# login NAME ENV...: imtest with ENV (NAME=VALUE words or -u NAME); the
# plugin's error detail in $MB_TMP/NAME.detail.
login() {
	mb_n=$1
	shift
	( unset MAILBEARER_SOCKET XDG_RUNTIME_DIR
	  [ $# -gt 0 ] && export "$@"
	  sasl_client "$MB_TMP/$mb_n" imtest "$MB_IMAP_PORT" XOAUTH2 \
		"$user" "" 'a1 LOGOUT' )
	sed -n 's/^<[0-9]*> <errdetail> //p' "$MB_TMP/$mb_n.syslog" \
		> "$MB_TMP/$mb_n.detail"
}

login nox
contains "no XDG_RUNTIME_DIR: not running at the system socket" \
	"$MB_TMP/nox.detail" \
	"^XOAUTH2: mailbearer serve is not running at $SYSSOCK "
# A daemon (Postfix's smtp(8), cron) has no XDG_RUNTIME_DIR and means the
# system socket: an explanation there is noise.
lacks "... with no note about XDG_RUNTIME_DIR (a daemon means the system socket)" \
	"$MB_TMP/nox.detail" 'system socket|XDG_RUNTIME_DIR'

# ... unless a per-user socket waits at the usual place, /run/user/UID
# (a user's session whose XDG_RUNTIME_DIR was lost, by su or cron): then
# the note names it.  In the private namespace only (a tmpfs over
# /run/user).
if [ -n "${MB_SOCKWHY_NS:-}" ] && [ -d /run/user ] &&
    mount -t tmpfs -o size=1m,mode=755 mbsockwhyuser /run/user; then
	mkdir -p "/run/user/$(id -u)/mailbearer"
	"$MB_PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
		"/run/user/$(id -u)/mailbearer/socket"
	login lost
	contains "no XDG_RUNTIME_DIR, a socket at /run/user/UID: the note names it" \
		"$MB_TMP/lost.detail" \
		"\\(the system socket: XDG_RUNTIME_DIR is not set, so the per-user socket /run/user/$(id -u)/mailbearer/socket was not used; set XDG_RUNTIME_DIR, MAILBEARER_SOCKET or mailbearer_socket\\)\$"
	umount /run/user
else
	skip "no private mount namespace for /run/user"
fi

login rel XDG_RUNTIME_DIR=relative/dir
contains "a relative XDG_RUNTIME_DIR: said so" "$MB_TMP/rel.detail" \
	'the system socket: XDG_RUNTIME_DIR is not an absolute path'

mkdir -p "$MB_TMP/xdg"
login empty XDG_RUNTIME_DIR="$MB_TMP/xdg"
contains "XDG_RUNTIME_DIR without a socket: names the per-user path" \
	"$MB_TMP/empty.detail" \
	"\\(the system socket: there is no per-user socket $MB_TMP/xdg/mailbearer/socket\\)\$"

login explicit MAILBEARER_SOCKET="$MB_TMP/none.sock"
contains "MAILBEARER_SOCKET: the error names that socket" \
	"$MB_TMP/explicit.detail" "not running at $MB_TMP/none.sock "
lacks "... and no fallback note" "$MB_TMP/explicit.detail" 'system socket'
done_testing
