#!/bin/sh
# SPDX-License-Identifier: MIT
# Without systemd, as doc/usage-serve.md writes it ("Without systemd"):
# root starts `serve --user OWNER --pidfile ... --socket ... --socket
# ...,mode=0660,group=postfix`; serve binds both sockets (the second with
# the group postfix, which OWNER is not in), writes its pid file, then
# runs as OWNER for good (uid, gid, supplementary groups, no capability
# left), refreshes and writes the state as OWNER, answers on both
# sockets, and at SIGTERM removes its sockets and pid file.  Root without
# --user on OWNER's state refuses to start, naming --user.  OWNER here is
# uid 65534 (the packaged user mailbearer: tests/install/test-pkg-install.sh).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (serve binds as root, then --user)"
need setpriv runuser
owner=$(id -nu 65534 2> /dev/null) || skip_all "no user with uid 65534"
# the chroot socket's group: postfix where Postfix is installed
grp=postfix
getent group postfix > /dev/null || grp=$(id -ng 65534)
token_setup
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
u=svc@example.com
# OWNER must reach the configuration, the CA (a public copy) and the state.
chmod 711 "$MB_TMP"
cp "$MB_CA" "$MB_TMP/pubca.pem" && chmod 644 "$MB_TMP/pubca.pem" ||
	bail_out "cannot copy the CA certificate"
MB_CA=$MB_TMP/pubca.pem
sd=$MB_TMP/lib/mailbearer
mkdir -p "$sd" && chmod 700 "$sd" && chown 65534 "$sd"
MB_ACCT_STATE_DIR=$sd mb_conf_account "$MB_CONF" "$u" generic 'allow = 0'
# A second account whose secret file root left root's own 0600 (what
# mailbearer(1)'s CLIENT CREDENTIALS steps did, as root, without the
# chown): that account's error only.
b=bad@example.com
printf 'not-a-real-secret\n' > "$MB_TMP/bad.secret"
chmod 600 "$MB_TMP/bad.secret"
MB_ACCT_STATE_DIR=$sd mb_conf_account "$MB_CONF" "$b" generic \
	"allow = 0
client_secret_file = $MB_TMP/bad.secret"
chmod 644 "$MB_CONF"
rt=$(mockctl account "$u" --client-id cid)
remember_secret "$rt"
printf '%s\n' "$rt" | runuser -u "$owner" -- "$MB_HELPER" --config \
	"$MB_CONF" import "$u" > "$MB_TMP/out" 2> "$MB_TMP/err"
ok $? "runuser -u $owner -- mailbearer import"

run=$MB_TMP/run/mailbearer
chroot=$MB_TMP/spool
mkdir -p "$MB_TMP/run" "$chroot/run"
pidf=$run/serve.pid

# Root without --user, the state being OWNER's: refused at start.
timeout 30 "$MB_HELPER" serve --config "$MB_CONF" --foreground \
	--socket "$MB_TMP/root.sock" > "$MB_TMP/out" 2> "$MB_TMP/root.err"
rc=$?
check "root without --user on $owner's state: refused at start (exit $rc)" \
	test "$rc" = 78
contains "... naming the state's owner and --user" "$MB_TMP/root.err" \
	"state directory $sd belongs to $owner, who must write it: start serve as root with --user $owner"
check "... and no socket left" test ! -e "$MB_TMP/root.sock"

# --user root and --user as another, non-root user: refused.
timeout 30 "$MB_HELPER" serve --config "$MB_CONF" --user root --foreground \
	--socket "$MB_TMP/r2.sock" > /dev/null 2> "$MB_TMP/r2.err"
rc=$?
check "--user root: refused (exit $rc)" test "$rc" = 67
contains "... saying serve does not run as root" "$MB_TMP/r2.err" \
	"--user root: serve does not run as root"
timeout 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$MB_HELPER" serve --config "$MB_CONF" --user root --foreground \
	--socket "$MB_TMP/r3.sock" > /dev/null 2> "$MB_TMP/r3.err"
check "--user as a user that is not root: refused" test $? = 67

# The recipe, as written (paths below $MB_TMP instead of / and /run).
timeout 30 "$MB_HELPER" serve --config "$MB_CONF" --user "$owner" \
	--pidfile "$pidf" --socket "$run/socket" \
	--socket "$chroot/run/mailbearer/socket,mode=0660,group=$grp" \
	< /dev/null > "$MB_TMP/out" 2> "$MB_TMP/serve.err"
ok $? "serve --user $owner daemonised"
check "pid file written" wait_for 20 test -s "$pidf"
pid=$(cat "$pidf" 2> /dev/null)
case $pid in
''|*[!0-9]*) bail_out "no pid in $pidf" ;;
esac
at_exit "stop_pid $pid"
stat_line() { grep "^$1:" "/proc/$pid/status" | tr -s '\t ' ' ' | cut -d' ' -f2-; }
is_() {
	if [ "$2" = "$3" ]; then ok 0 "$1"; else
		ok 1 "$1"; diag "want: $2" "got:  $3"; fi
}
is_ "serve runs as $owner (real, effective, saved, fs uid)" \
	"65534 65534 65534 65534" "$(stat_line Uid)"
g=$(id -g 65534)
is_ "... with $owner's group" "$g $g $g $g" "$(stat_line Gid)"
is_ "... and only $owner's supplementary groups" \
	"$(id -G 65534 | tr ' ' '\n' | sort -n | tr '\n' ' ')" \
	"$(stat_line Groups | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')"
is_ "... and no capability" "0000000000000000 0000000000000000" \
	"$(stat_line CapEff) $(stat_line CapPrm)"
is_ "the system socket: root, mode 0666" "root:root 666" \
	"$(stat -c '%U:%G %a' "$run/socket")"
is_ "the chroot socket: group $grp, mode 0660" "root:$grp 660" \
	"$(stat -c '%U:%G %a' "$chroot/run/mailbearer/socket")"

ask() { timeout 40 "$MB_PYTHON" "$CLIENT" "$1" "MAILBEARER1 TOKEN $u"; }
r=$(ask "$run/socket")
answer_ok() { case $1 in "MAILBEARER1 OK "*) return 0 ;; esac
	diag "answer: $1"; return 1; }
check "a token on the system socket (refreshed by serve as $owner)" \
	answer_ok "$r"
at=${r##* }
remember_secret "$at"
# as Postfix's smtp(8) asks: a process of the group $grp
r=$(setpriv --reuid=65534 --regid="$grp" --clear-groups \
	"$MB_PYTHON" "$CLIENT" "$chroot/run/mailbearer/socket" \
	"MAILBEARER1 TOKEN $u" 2>&1)
check "the same token on the chroot socket, to group $grp" \
	test "${r##* }" = "$at"
r=$(timeout 40 "$MB_PYTHON" "$CLIENT" "$run/socket" "MAILBEARER1 TOKEN $b")
case $r in
"MAILBEARER1 ERR "*"cannot open client_secret_file $MB_TMP/bad.secret"*)
	ok 0 "the account whose secret file $owner cannot read: its error" ;;
*)	ok 1 "the account whose secret file $owner cannot read: its error"
	diag "answer: $r" ;;
esac
r=$(ask "$run/socket")
check "... while the other account is still served" test "${r##* }" = "$at"
is_ "every file in the state directory is $owner's" "" \
	"$(find "$sd" ! -uid 65534)"

kill -TERM "$pid"
check "SIGTERM ends serve" wait_for 20 sh -c "! kill -0 $pid"
check "... which removed its pid file" test ! -e "$pidf"
check "... and its sockets" test ! -e "$run/socket" -a \
	! -e "$chroot/run/mailbearer/socket"
no_secrets "no secret in any output" "$MB_TMP/root.err" "$MB_TMP/serve.err" \
	"$MB_TMP/err"
done_testing
