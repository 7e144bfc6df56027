#!/bin/sh
# SPDX-License-Identifier: MIT
# A mailbearer process holds secrets: it must not be dumpable (no ptrace
# or /proc/PID/mem by other processes of the same user; the kernel then
# gives the files under /proc/PID to root) and must not write core files
# (RLIMIT_CORE 0, hard limit too).  Checked on a `mailbearer token` run by an unprivileged
# user while it waits for a token endpoint that hangs.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (to run the helper as another user)"
command -v setpriv > /dev/null || skip_all "setpriv not installed"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody "$MB_HELPER" version > /dev/null 2>&1 ||
	skip_all "uid 65534 cannot run the build tree's helper"
token_setup

# Everything the helper reads, owned by or readable for uid 65534.
nb=$MB_TMP/nb
mkdir -m 700 "$nb"
cp "$MB_CA" "$nb/ca.pem"
conf=$nb/mailbearer.conf
mb_conf_account "$conf" d@example.com
sed -i -e "s|^ca_file = .*|ca_file = $nb/ca.pem|" \
	-e "s|^state_dir = .*|state_dir = $nb/state|" "$conf"
chown -R 65534:65534 "$nb"
chmod 711 "$MB_TMP"
rt=$(mockctl account d@example.com --client-id cid)
printf '%s\n' "$rt" | as_nobody "$MB_HELPER" --config "$conf" import \
	d@example.com > /dev/null 2> "$MB_TMP/err"
ok $? "import as uid 65534"

mockctl fault token slow --delay 20 --count 5
# Not through the function: $! must be the helper itself.
setpriv --reuid=65534 --regid=65534 --clear-groups "$MB_HELPER" \
	--config "$conf" token d@example.com > /dev/null \
	2> "$MB_TMP/token.err" &
pid=$!
at_exit "kill -9 $pid"
# setpriv execs the helper in the same process.
check "the helper runs (waiting for the endpoint)" \
	wait_for 5 grep -q mailbearer "/proc/$pid/comm"
check "it runs as uid 65534" \
	grep -Eq '^Uid:[[:space:]]+65534[[:space:]]' "/proc/$pid/status"
# (Not the directory /proc/PID itself, which keeps the task's uid.)  The
# exec and main()'s first lines take a moment: wait, bounded, for root.
wait_for 5 sh -c "[ \"\$(stat -c %u /proc/$pid/status)\" = 0 ]"
owner=$(stat -c %u "/proc/$pid/status")
ok "$([ "$owner" = 0 ] && echo 0 || echo 1)" \
	"not dumpable: /proc/PID/status belongs to root (got uid $owner)"
grep '^Max core file size' "/proc/$pid/limits" > "$MB_TMP/core"
contains "no core files: RLIMIT_CORE 0, hard limit too" "$MB_TMP/core" \
	'^Max core file size +0 +0 +bytes'
kill -9 "$pid" 2>/dev/null
mb_diag_file "$MB_TMP/token.err"
done_testing
