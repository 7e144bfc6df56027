#!/bin/sh
# SPDX-License-Identifier: MIT
# Without systemd: `serve --pidfile PATH` writes the daemon's pid (after
# the fork), refuses a second serve while the first holds the file, takes
# over a file left by a dead one, and removes the file at exit.  The
# parent exits once the daemon is ready: when `serve` returns 0 the pid
# file is written and the socket answers (no wait), and a daemon that dies
# before it is ready makes `serve` fail.
. "$top_srcdir/tests/lib/tap.sh"

MB=$top_builddir/tokenhelper/mailbearer
need_helper
cd "$MB_TMP" || exit 1
cat > c.conf <<EOC
[a@example.com]
provider = generic
token_endpoint = https://127.0.0.1:9/token
client_id = c
state_dir = state
EOC
chmod 600 c.conf
# alive PID: PID is a running mailbearer serve
alive() { kill -0 "$1" 2>/dev/null; }
# stop PID: SIGTERM, then wait (bounded) for it to go
stop() {
	kill "$1" 2>/dev/null
	wait_for 20 sh -c "! kill -0 $1 2>/dev/null"
}

timeout 30 "$MB" --config c.conf serve --socket "$MB_TMP/s1" \
	--pidfile p.pid </dev/null >/dev/null 2>err1
ok $? "serve --pidfile (relative path) daemonised"
check "pid file written when serve returns" test -s p.pid
pid=$(cat p.pid 2>/dev/null)
case $pid in
''|*[!0-9]*) ok 1 "pid file holds a pid"; pid= ;;
*) ok 0 "pid file holds a pid" ;;
esac
[ -n "$pid" ] && at_exit "kill $pid"
check "the pid is the daemon's (alive after the parent exited)" alive "$pid"
check "the daemon listens" test -S s1
r=$(timeout 30 "$MB_PYTHON" "$top_srcdir/tests/fixtures/ipc-client.py" \
	"$MB_TMP/s1" "MAILBEARER1 TOKEN a@example.com" 2>/dev/null)
check "... and answers at once ($r)" test -n "$r"

timeout 30 "$MB" --config c.conf serve --socket "$MB_TMP/s2" \
	--pidfile p.pid </dev/null >/dev/null 2>err2
rc=$?
check "a second serve with the same pid file is refused (75)" test $rc = 75
contains "the refusal names the holder" err2 "held by a running serve \(pid $pid\)"
check "the second serve opened no socket" test ! -e s2
check "the first serve still runs" alive "$pid"
check "the pid file still names the first" test "$(cat p.pid)" = "$pid"

check "SIGTERM ends serve" stop "$pid"
check "pid file removed at exit" test ! -e p.pid

# A file left by a serve that died (not locked): taken over.
echo 999999 > p.pid
"$MB" --config c.conf serve --socket "$MB_TMP/s3" --foreground \
	--pidfile "$MB_TMP/p.pid" </dev/null >/dev/null 2>err3 &
fpid=$!
at_exit "kill $fpid"
check "a stale pid file is taken over (foreground: own pid)" \
	wait_for 20 sh -c "test \"\$(cat p.pid)\" = $fpid"
check "SIGTERM ends the foreground serve" stop "$fpid"
wait "$fpid" 2>/dev/null
check "pid file removed at exit (foreground)" test ! -e p.pid

# A pid file that cannot be created: an error, nothing left running.
timeout 30 "$MB" --config c.conf serve --socket "$MB_TMP/s4" \
	--pidfile "$MB_TMP/no/such/dir/p.pid" </dev/null >/dev/null 2>err4
rc=$?
check "an impossible pid file is an error before daemonising" test $rc != 0
contains "the error names the pid file" err4 'pidfile .*/no/such/dir/p.pid'
check "no socket left" test ! -e s4

# A daemon killed after the fork, before it is ready: the parent's failure
# (before: exit 0, as if serve ran).
test_hooks
MB_TEST_CRASH_AT=serve-ready timeout 30 "$MB" --config c.conf serve \
	--socket "$MB_TMP/s5" --pidfile p5.pid </dev/null >/dev/null 2>err5
rc=$?
check "a daemon killed before it was ready: serve fails ($rc)" test $rc != 0
contains "... and says why" err5 'killed by signal 9 before it was ready'
done_testing
