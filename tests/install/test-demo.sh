#!/bin/sh
# SPDX-License-Identifier: MIT
# contrib/demo.sh (README's Quick start, first command) run against this
# build (MAILBEARER_DEMO_BUILD): it authorizes with the loopback flow,
# logs in through serve, refreshes once after a forced expiry, relays one
# message through a private Postfix, prints its summary, and leaves
# nothing behind: no process, no file outside its temporary directory, no
# policy-rc.d.  Needs root and the packages of contrib/install-deps.sh
# (all present: the demo installs nothing then).
. "$top_srcdir/tests/lib/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "the demo runs as root"
not_sanitized "imtest and Postfix (the demo)"
need_helper
built "$MB_PLUGIN_SO"
for t in imtest smtptest; do
	[ -x "${MB_CYRUS_BIN:-/usr/lib/cyrus/bin}/$t" ] ||
		skip_all "no $t (cyrus-clients)"
done
need dovecot doveadm curl python3 openssl setsid timeout
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed"
built "$top_builddir/tests/fixtures/.libs/libsyslogshim.so"
# --check: a missing package is a skip, never an apt run from a test.
sh "$top_srcdir/contrib/install-deps.sh" --check > "$MB_TMP/deps.out" 2>&1 ||
	skip_all "$(cat "$MB_TMP/deps.out"); the demo would install them"

# The demo's own temporary directory lives below $MB_TMP/t, so that what
# it leaves behind can be seen.
# Postfix's and Dovecot's unprivileged processes traverse both.
mkdir -p "$MB_TMP/t"
chmod 0711 "$MB_TMP" "$MB_TMP/t"
# policy-rc.d: whatever was there (a container's) stays as it was.
prc() { ls -l --time-style=full-iso /usr/sbin/policy-rc.d 2>&1 | md5sum; }
prc_before=$(prc)
( TMPDIR=$MB_TMP/t MAILBEARER_DEMO_BUILD=$top_builddir \
	timeout -s KILL 300 sh "$top_srcdir/contrib/demo.sh" \
	> "$MB_TMP/demo.out" 2>&1 )
rc=$?
if [ "$rc" = 0 ]; then ok 0 "the demo exits 0"; else
	ok 1 "the demo exits 0 (status $rc)"
	sed -n '/FAILED/p' "$MB_TMP/demo.out" | diag_stdin
	tail -n 40 "$MB_TMP/demo.out" | diag_stdin
fi
contains "it used this build, installing nothing" "$MB_TMP/demo.out" \
	'^install-deps: all packages present$'
contains "the URL of the loopback flow is printed" "$MB_TMP/demo.out" \
	'^    https://127\.0\.0\.1:[0-9]+/authorize\?response_type=code&'
contains "the browser (curl) got the provider's redirect" \
	"$MB_TMP/demo.out" 'is authorized\. You can close this window'
for line in \
	'authorize \(loopback flow\) +ok$' \
	'imtest XOAUTH2 through serve +ok$' \
	'expired, refused, login again +ok, 1 refresh \(0 -> 1\)$' \
	'Postfix relay through serve +ok, delivered$' \
	'password mode \(mailbearer token\) +ok$' \
	'helper down: the plugin says so +ok$' \
	'refresh requests at the provider: +1$'; do
	contains "summary: $line" "$MB_TMP/demo.out" "^  $line"
done
contains "the closing line" "$MB_TMP/demo.out" \
	'^demo finished: every step behaved as described$'
lacks "no step failed" "$MB_TMP/demo.out" '(=> FAILED|  FAILED)'

# Nothing left behind.
left=$(ls -A "$MB_TMP/t")
check "its temporary directory is removed" test -z "$left"
[ -z "$left" ] || diag "$left"
if ps -eo pid=,args= | grep -F "$MB_TMP/t/" | grep -v grep \
	> "$MB_TMP/ps"; then
	ok 1 "no process of the demo is left"; diag_stdin < "$MB_TMP/ps"
else
	ok 0 "no process of the demo is left"
fi
check "policy-rc.d as it was before" test "$(prc)" = "$prc_before"
done_testing
