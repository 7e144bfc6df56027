#!/bin/sh
# The plugin's fallback to the system socket is never silent: with no
# mailbearer_socket and no MAILBEARER_SOCKET, a client whose per-user
# socket was not found (no XDG_RUNTIME_DIR, or nothing at
# $XDG_RUNTIME_DIR/mailbearer/socket) uses the compiled-in system socket,
# and every failure says so and why (doc/plugin.md, "Which socket").  An
# explicit socket gets no such note.  imtest (XOAUTH2, empty password)
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
contains "... and says it is the system socket and why" "$MB_TMP/nox.detail" \
	'\(the system socket: XDG_RUNTIME_DIR is not set, so no per-user socket was looked for; set MAILBEARER_SOCKET or mailbearer_socket to choose one\)$'

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
