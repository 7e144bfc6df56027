#!/bin/sh
# SPDX-License-Identifier: MIT
# A FIFO (or another special file) where the state or lock file belongs
# is refused at once with a clear error, never waited on.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
need mkfifo
mb_conf_account "$MB_CONF" fifo@example.com
mb_conf_account "$MB_CONF" lock@example.com
mkdir -m 700 "$MB_TMP/state"
mkfifo -m 600 "$MB_TMP/state/fifo@example.com.json"
start=$(date +%s)
"$MB_HELPER" --config "$MB_CONF" token fifo@example.com \
	> "$MB_TMP/out" 2> "$MB_TMP/err" < /dev/null &
pid=$!
( sleep 10; kill -9 "$pid" 2> /dev/null ) &
watchdog=$!
wait "$pid"
rc=$?
kill "$watchdog" 2> /dev/null
check "state file a FIFO: fails (exit $rc), not killed by the watchdog" \
	test "$rc" != 0 -a "$rc" != 137
# No writer ever opens the FIFO: a helper that waited on it would be
# killed by the watchdog (the check above).  How long it took is only
# shown (no timing assertion).
diag "refused after $(($(date +%s) - start)) s"
contains "the error names the FIFO and the fix" "$MB_TMP/err" \
	'fifo@example.com.json is a FIFO \(named pipe\), not a regular file; remove it'
mkfifo -m 600 "$MB_TMP/state/lock@example.com.lock"
rt=$(mockctl account lock@example.com --client-id cid)
printf '%s\n' "$rt" | timeout 10 "$MB_HELPER" --config "$MB_CONF" \
	import lock@example.com > "$MB_TMP/out" 2> "$MB_TMP/err"
rc=$?
check "lock file a FIFO: fails (exit $rc) without hanging" \
	test "$rc" != 0 -a "$rc" != 124
contains "the error names the lock file" "$MB_TMP/err" \
	'lock@example.com.lock is a FIFO \(named pipe\), not a regular file; remove it'
done_testing
