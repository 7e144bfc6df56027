#!/bin/sh
# SPDX-License-Identifier: MIT
# contrib/install-deps.sh removes the policy-rc.d it created however it
# ends (apt succeeds, apt fails, SIGINT/SIGTERM/SIGHUP while apt runs),
# leaves an administrator's policy-rc.d alone and cleans up one left by a
# run killed with SIGKILL.  apt-get, dpkg-query, id and
# debconf-set-selections are fakes on PATH; policy-rc.d goes to a
# temporary path through MB_POLICY_RC_D.
. "$top_srcdir/tests/lib/tap.sh"

script=$top_srcdir/contrib/install-deps.sh
policy=$MB_TMP/policy-rc.d
fake=$MB_TMP/bin
real_before=$(ls -l /usr/sbin/policy-rc.d 2>/dev/null || echo absent)

# Without the override the script would write /usr/sbin/policy-rc.d for
# real: never run such a script here.
if ! grep -q MB_POLICY_RC_D "$script"; then
	ok 1 "install-deps.sh takes the policy-rc.d path from MB_POLICY_RC_D"
	done_testing
	exit 1
fi

mkdir -p "$fake"
cat > "$fake/dpkg-query" <<'EOF'
#!/bin/sh
exit 1
EOF
cat > "$fake/id" <<'EOF'
#!/bin/sh
[ "${1:-}" = -u ] && { echo 0; exit 0; }
exec /usr/bin/id "$@"
EOF
cat > "$fake/debconf-set-selections" <<'EOF'
#!/bin/sh
cat >/dev/null
[ "${FAKE_DEBCONF:-ok}" = ok ]
EOF
# apt-get: records what policy-rc.d answers, then does FAKE_APT.
cat > "$fake/apt-get" <<'EOF'
#!/bin/sh
"$MB_POLICY_RC_D" postfix start >/dev/null 2>&1
echo "policy=$? $*" >> "$MB_TMP/apt.log"
[ "$1" = update ] && exit 0
case $FAKE_APT in
ok)	exit 0 ;;
fail)	exit 100 ;;
hang)	echo $$ > "$MB_TMP/apt.pid"
	i=0
	while [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	exit 0 ;;
esac
EOF
chmod 755 "$fake"/*

# run_deps APT: runs the script with the fakes; sets rc, leaves stderr in
# $MB_TMP/err.
run_deps() {
	rm -f "$MB_TMP/apt.log"
	FAKE_APT=$1 PATH="$fake:$PATH" MB_POLICY_RC_D=$policy \
		timeout 30 sh "$script" >"$MB_TMP/out" 2>"$MB_TMP/err"
	rc=$?
}

run_deps ok
ok "$rc" "apt succeeds: exit 0"
contains "apt ran under a policy-rc.d that forbids starting daemons" \
	"$MB_TMP/apt.log" '^policy=101 install'
check "apt succeeds: policy-rc.d removed" test ! -e "$policy"

run_deps fail
check "apt fails: the script fails" test "$rc" = 100
contains "apt fails: it ran under our policy-rc.d" "$MB_TMP/apt.log" \
	'^policy=101 install'
check "apt fails: policy-rc.d removed" test ! -e "$policy"

FAKE_DEBCONF=fail
export FAKE_DEBCONF
run_deps ok
unset FAKE_DEBCONF
check "debconf fails: the script fails" test "$rc" != 0
check "debconf fails: policy-rc.d removed" test ! -e "$policy"

# signal_run SIG STATUS: the signal reaches the script and apt-get (as
# Ctrl-C or a service manager would signal the process group) while apt
# runs.  The script is started with default dispositions: a background
# job of this shell would have SIGINT ignored, which a script cannot trap.
signal_run() {
	rm -f "$MB_TMP/apt.pid" "$MB_TMP/apt.log"
	FAKE_APT=hang PATH="$fake:$PATH" MB_POLICY_RC_D=$policy \
		env --default-signal=INT,TERM,HUP sh "$script" \
		>"$MB_TMP/out" 2>"$MB_TMP/err" &
	pid=$!
	( sleep 25; kill -KILL "$pid" ) 2>/dev/null &
	watchdog=$!
	if wait_for 10 test -s "$MB_TMP/apt.pid"; then
		check "SIG$1 while apt runs: policy-rc.d present" \
			test -x "$policy"
		kill "-$1" "$pid" "$(cat "$MB_TMP/apt.pid")"
	else
		ok 1 "SIG$1: apt-get started"
	fi
	wait "$pid"
	rc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	check "SIG$1 while apt runs: exit status $2" test "$rc" = "$2"
	check "SIG$1 while apt runs: policy-rc.d removed" test ! -e "$policy"
}
if env --default-signal=INT true 2>/dev/null; then
	signal_run TERM 143
	signal_run INT 130
	signal_run HUP 129
else
	skip "env --default-signal missing (coreutils < 8.31)"
fi

# The administrator's own policy-rc.d is used and kept, byte for byte.
printf '#!/bin/sh\n# site policy\nexit 101\n' > "$policy"
chmod 755 "$policy"
cp "$policy" "$MB_TMP/site-policy"
run_deps fail
check "an existing policy-rc.d is kept" cmp -s "$policy" "$MB_TMP/site-policy"
run_deps ok
check "an existing policy-rc.d is kept after success" \
	cmp -s "$policy" "$MB_TMP/site-policy"
rm -f "$policy"

# One left by a run killed with SIGKILL (its pid gone) is removed; one of
# a run still going is not.
sh -c 'exit 0' &
dead=$!
wait "$dead"
# marked_policy PID: a policy-rc.d as the script writes it, for run PID.
marked_policy() {
	printf '#!/bin/sh\n# installed by mailbearer install-deps.sh,' \
		> "$policy"
	printf ' pid %s\nexit 101\n' "$1" >> "$policy"
	chmod 755 "$policy"
}
marked_policy "$dead"
run_deps ok
check "a leftover policy-rc.d of a dead run is removed" test ! -e "$policy"
contains "the removal is reported" "$MB_TMP/err" 'left by an interrupted run'
marked_policy "$$"
cp "$policy" "$MB_TMP/live-policy"
run_deps ok
check "the policy-rc.d of a live run is kept" \
	cmp -s "$policy" "$MB_TMP/live-policy"
rm -f "$policy"

# --check: says what is missing, runs no apt, writes no policy-rc.d.
rm -f "$MB_TMP/apt.log"
PATH="$fake:$PATH" MB_POLICY_RC_D=$policy timeout 30 sh "$script" --check \
	>"$MB_TMP/out" 2>"$MB_TMP/err"
check "--check with packages missing: exit 1" test $? = 1
contains "... naming them" "$MB_TMP/out" \
	'^install-deps: missing packages: autoconf automake '
check "... without apt" test ! -e "$MB_TMP/apt.log"
check "... nor a policy-rc.d" test ! -e "$policy"

check "the system's /usr/sbin/policy-rc.d is untouched" test \
	"$(ls -l /usr/sbin/policy-rc.d 2>/dev/null || echo absent)" = \
	"$real_before"
done_testing
