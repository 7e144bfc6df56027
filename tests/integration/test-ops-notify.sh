#!/bin/sh
# SPDX-License-Identifier: MIT
# notify = COMMAND: run once per transition (needs-authorize, failing
# after notify_after, recovered), from one-shot `token` and from serve,
# never twice for one transition between them; a clean environment with
# no secret; one per account and event per hour; the global part of the
# configuration; a failing command logged, never fatal.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
N=$MB_TMP/n
mkdir -p "$N"
# The command: one line per run, and its whole environment.
cmd="echo \"\$MAILBEARER_ACCOUNT \$MAILBEARER_EVENT\" >> $N/events; env > $N/env.\$MAILBEARER_ACCOUNT.\$MAILBEARER_EVENT"
cat > "$MB_CONF" <<EOC
# the global part: before the first [account]
notify = $cmd
notify_after = 0
EOC
mb_conf_account "$MB_CONF" a@example.com generic "client_secret = a-secret-123"
mb_conf_account "$MB_CONF" f@example.com
mb_conf_account "$MB_CONF" slow@example.com generic "notify_after = 3600"
mb_conf_account "$MB_CONF" off@example.com generic "notify ="
mb_conf_account "$MB_CONF" bad@example.com generic "notify = echo oops-from-notify >&2; exit 3"
mb_conf_account "$MB_CONF" s@example.com
mb_conf_account "$MB_CONF" c@example.com generic "client_secret = wrong-secret-456"
remember_secret wrong-secret-456
remember_secret a-secret-123
events() { grep -c "^$1 $2\$" "$N/events" 2>/dev/null || true; }
# the detached command runs after `token` returns: wait for its line
has() { test "$(events "$1" "$2")" = "$3"; }
fired() { wait_for 10 has "$@"; }
# quiet ACCOUNT EVENT N [STDERR]: the last one-shot run started no command
# for EVENT, and the command ran N times in all.  A run decides before it
# exits and logs "ACCOUNT: EVENT: running notify" to its stderr once the
# command has started (fired() sees that line's command arrive): without
# the line in STDERR ($MB_TMP/err) nothing of this run can still come.
quiet() {
	if grep -q "account $1: $2: running notify" "${4:-$MB_TMP/err}"; then
		diag "a notify ($2) of $1 started:"
		mb_diag_file "${4:-$MB_TMP/err}"
		return 1
	fi
	has "$1" "$2" "$3"
}
setup() {
	rt=$(mockctl account "$1" --client-id cid ${2:-})
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import "$1"
}

# --- the grant dies: needs-authorize, once ---
setup a@example.com "--client-secret a-secret-123"
mb token a@example.com
remember_secret "$(cat "$MB_TMP/out")"
check "working account: nothing sent" test ! -e "$N/events"
mockctl revoke a@example.com --what refresh > /dev/null
time_left a@example.com -5
mb token a@example.com
check "dead grant: token exits 77" test "$mb_rc" = 77
fired a@example.com needs-authorize 1
ok $? "needs-authorize sent"
env_file=$N/env.a@example.com.needs-authorize
contains "MAILBEARER_ACCOUNT" "$env_file" '^MAILBEARER_ACCOUNT=a@example\.com$'
contains "MAILBEARER_EVENT" "$env_file" '^MAILBEARER_EVENT=needs-authorize$'
contains "MAILBEARER_REASON says why" "$env_file" \
	'^MAILBEARER_REASON=.*(refused|revoked|invalid_grant)'
contains "PATH is a fixed one" "$env_file" '^PATH=/usr/local/sbin:'
others=$(sed -n 's/=.*//p' "$env_file" | grep -Ev \
	'^(PATH|HOME|MAILBEARER_ACCOUNT|MAILBEARER_EVENT|MAILBEARER_REASON|PWD|OLDPWD|SHLVL|_)$' |
	tr '\n' ' ')
check "nothing else in the environment (got: ${others:-none})" \
	test -z "$others"
lacks "not the test's environment" "$env_file" '^(MB_TMP|MB_CONF|top_srcdir)='
leaks=0
while read -r s; do
	[ -n "$s" ] || continue
	grep -qF -- "$s" "$env_file" && leaks=$((leaks + 1))
done < "$MB_TMP/secrets"
check "no secret in the environment" test "$leaks" = 0
mb token a@example.com
quiet a@example.com needs-authorize 1
ok $? "still dead: not sent again"
check "the transition is kept in <account>.notify" \
	grep -q '^attention=needs-authorize$' "$MB_TMP/state/a@example.com.notify"
lacks "the notify file holds no epoch" \
	"$MB_TMP/state/a@example.com.notify" '=[0-9]{9,}$'

# --- back to work: recovered ---
setup a@example.com "--client-secret a-secret-123"
mb token a@example.com
remember_secret "$(cat "$MB_TMP/out")"
check "re-imported: token exits 0" test "$mb_rc" = 0
fired a@example.com recovered 1
ok $? "recovered sent"
mb token a@example.com
quiet a@example.com recovered 1
ok $? "still fine: not sent again"

# --- dead again within the hour: rate-limited ---
mockctl revoke a@example.com --what refresh > /dev/null
time_left a@example.com -5
mb token a@example.com
quiet a@example.com needs-authorize 1
ok $? "second needs-authorize within the hour: not sent"
contains "the suppression is logged" "$MB_TMP/err" \
	'needs-authorize: not notified again .*one an hour'
contains "with an ISO 8601 time" "$MB_TMP/err" \
	'ran at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'

# --- failing refreshes: at once with notify_after = 0 (global) ---
setup f@example.com
setup slow@example.com
setup off@example.com
mockctl fault token 503 --count 30 > /dev/null
for a in f slow off; do
	mb token $a@example.com
	cp "$MB_TMP/err" "$MB_TMP/err.$a"
done
check "provider down: token exits 75" test "$mb_rc" = 75
fired f@example.com failing 1
ok $? "failing sent (notify_after = 0)"
contains "the reason says since when" "$N/env.f@example.com.failing" \
	'^MAILBEARER_REASON=refreshes have failed since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z: .*503'
quiet slow@example.com failing 0 "$MB_TMP/err.slow"
ok $? "notify_after = 3600: not yet"
quiet off@example.com failing 0 "$MB_TMP/err.off"
ok $? "off: an empty notify turns the global one off"
mockctl reset faults > /dev/null
mb token f@example.com
remember_secret "$(cat "$MB_TMP/out")"
fired f@example.com recovered 1
ok $? "provider back: recovered"
mb token slow@example.com
remember_secret "$(cat "$MB_TMP/out")"
quiet slow@example.com recovered 0
ok $? "never notified as failing: no recovered either"

# --- the client is refused (a wrong secret): client-refused ---
setup c@example.com "--client-secret right-secret-789"
remember_secret right-secret-789
mb token c@example.com
check "wrong client secret: token exits 77" test "$mb_rc" = 77
fired c@example.com client-refused 1
ok $? "client-refused sent"
contains "its reason names the client" "$N/env.c@example.com.client-refused" \
	'^MAILBEARER_REASON=.*client'

# --- serve: notifies from its refresh workers, once with one-shots ---
setup s@example.com
setup bad@example.com
mockctl revoke s@example.com --what refresh > /dev/null
mockctl revoke bad@example.com --what refresh > /dev/null
sock=$MB_TMP/s.sock
"$MB_HELPER" --config "$MB_CONF" serve --foreground --socket "$sock" \
	2> "$MB_TMP/serve.err" &
spid=$!
at_exit "kill $spid 2>/dev/null"
fired s@example.com needs-authorize 1
ok $? "serve: needs-authorize sent from its token check"
wait_for 10 grep -q 'notify (needs-authorize) failed with exit status 3' \
	"$MB_TMP/serve.err"
ok $? "serve: a failing command is logged"
contains "... with its output" "$MB_TMP/serve.err" \
	'failed with exit status 3: oops-from-notify'
check "serve: still running" kill -0 $spid
mb token s@example.com
quiet s@example.com needs-authorize 1
ok $? "one-shot after serve: not sent twice"
kill $spid
wait $spid 2>/dev/null
cat "$MB_TMP/serve.err" >> "$MB_TMP/all-stderr"

# notify_set ACCOUNT EVENT EXPR: "time passes" for the hourly rule: the
# time EVENT was last sent, in <account>.notify, set to EXPR (seconds
# since now, python).
notify_set() {
	python3 -c 'import sys, time
p, ev, t = sys.argv[1], sys.argv[2], eval(sys.argv[3], {"now": time.time()})
s = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
lines = [l for l in open(p).read().splitlines()
         if not l.startswith("sent." + ev + "=")]
lines.append("sent." + ev + "=" + s)
open(p, "w").write("\n".join(lines) + "\n")' "$MB_TMP/state/$1.notify" "$2" "$3"
}
# last_word ACCOUNT: the last event the command got for ACCOUNT.
last_word() { sed -n "s/^$1 //p" "$N/events" | tail -n 1; }

# --- suppressed within the hour, then the account's final state ---
# needs-authorize, recovered, needs-authorize again within the hour: the
# second one is not sent then, but not forgotten either: the first run
# after the hour sends it (one-shot), serve's timer at the hour's end.
mb_conf_account "$MB_CONF" r@example.com
setup r@example.com
mockctl revoke r@example.com --what refresh > /dev/null
time_left r@example.com -5
mb token r@example.com
fired r@example.com needs-authorize 1
ok $? "rate: needs-authorize sent"
setup r@example.com
mb token r@example.com
remember_secret "$(cat "$MB_TMP/out")"
fired r@example.com recovered 1
ok $? "rate: recovered sent"
mockctl revoke r@example.com --what refresh > /dev/null
time_left r@example.com -5
mb token r@example.com
quiet r@example.com needs-authorize 1
ok $? "rate: broken again within the hour: not sent now"
contains "the suppression says when it is sent" "$MB_TMP/err" \
	'needs-authorize: not notified again .*one an hour.*[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'
notify_set r@example.com needs-authorize "now - 3601"
mb token r@example.com
fired r@example.com needs-authorize 2
ok $? "one-shot: the first run after the hour sends it"
check "the last word about r is needs-authorize" \
	test "$(last_word r@example.com)" = needs-authorize
# recovered again within the hour of the last recovered: suppressed; its
# hour ends a few seconds later, while serve runs: serve's timer sends it
# (serve's first refresh sees the account working, sent or suppressed).
setup r@example.com
mb token r@example.com
remember_secret "$(cat "$MB_TMP/out")"
quiet r@example.com recovered 1
ok $? "rate: recovered again within the hour: not sent now"
time_left r@example.com -5
r_conf=$MB_TMP/r.conf
printf 'notify = %s\nnotify_after = 0\n' "$cmd" > "$r_conf"
mb_conf_account "$r_conf" r@example.com
notify_set r@example.com recovered "now - 3600 + 6"
"$MB_HELPER" --config "$r_conf" serve --foreground --socket "$MB_TMP/r.sock" \
	2> "$MB_TMP/r-serve.err" &
rpid=$!
at_exit "kill $rpid 2>/dev/null"
wait_for 60 has r@example.com recovered 2
ok $? "serve: the hour's end sends the suppressed recovered"
check "the last word about r is recovered" \
	test "$(last_word r@example.com)" = recovered
if grep -q 'recovered: not notified again' "$MB_TMP/r-serve.err"; then
	ok 0 "serve suppressed it first (its timer sent it)"
else
	skip "serve started after the hour's end (a slow machine)"
fi
kill $rpid
wait $rpid 2>/dev/null
cat "$MB_TMP/r-serve.err" >> "$MB_TMP/all-stderr"

# --- serve: 20 accounts at once; commands that outlive serve ---
# A command that holds on until the test lets it go (flock on a gate the
# test holds), writing a line and its process group (the shell's pid:
# its own session) first.
M=$MB_TMP/many
mkdir -p "$M"
gate=$M/gate
: > "$gate"
mcmd="echo \"\$MAILBEARER_ACCOUNT \$MAILBEARER_EVENT\" >> $M/events; echo \$\$ > $M/pg.\$MAILBEARER_ACCOUNT.\$MAILBEARER_EVENT; flock -s -w 120 $gate true"
m_conf=$MB_TMP/many.conf
printf 'notify = %s\nnotify_after = 0\n' "$mcmd" > "$m_conf"
accounts=
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	accounts="$accounts m$i@example.com"
	MB_ACCT_STATE_DIR=$MB_TMP/state-many
	mb_conf_account "$m_conf" "m$i@example.com"
	unset MB_ACCT_STATE_DIR
done
mmb() {
	mmb_conf=$MB_CONF
	MB_CONF=$m_conf
	mb "$@"
	mmb_rc=$?
	MB_CONF=$mmb_conf
	return $mmb_rc
}
msetup() {
	for a in $accounts; do
		rt=$(mockctl account "$a" --client-id cid)
		remember_secret "$rt"
		printf '%s\n' "$rt" | mmb import "$a"
	done
}
mevents() { grep -c " $1\$" "$M/events" 2>/dev/null || echo 0; }
m_seen() {
	test "$(grep -Ec "$1: running notify|notify \\($1\\) waits" \
		"$M/serve.err")" -ge 20
}
m_serve() {
	: > "$M/serve.err"
	"$MB_HELPER" --config "$m_conf" serve --foreground \
		--socket "$M/sock" 2>> "$M/serve.err" 9>&- &
	mpid=$!
	at_exit "kill $mpid 2>/dev/null"
}
m_stop() {
	kill $mpid
	wait_for 30 sh -c "! kill -0 $mpid 2>/dev/null ||
		grep -q '^[0-9]* ([^)]*) Z' /proc/$mpid/stat"
	ok $? "serve exits after SIGTERM"
	wait $mpid 2>/dev/null
	cat "$M/serve.err" >> "$MB_TMP/all-stderr"
}
gate_close() { exec 9> "$gate" && flock -x 9; }
gate_open() { exec 9>&-; }
at_exit "exec 9>&-"

msetup
for a in $accounts; do
	mockctl revoke "$a" --what refresh > /dev/null
done
gate_close
m_serve
wait_for 60 m_seen needs-authorize
ok $? "serve: all 20 accounts seen needing authorize"
check "16 commands run at once ($(mevents needs-authorize))" \
	test "$(mevents needs-authorize)" -ge 16
gate_open
wait_for 60 sh -c "test \"\$(grep -c ' needs-authorize\$' $M/events)\" = 20"
ok $? "20 accounts broken at once: 20 notifications ($(mevents needs-authorize))"
m_stop

# All 20 working again, their commands held: serve is stopped while 16
# run and 4 wait.
msetup
gate_close
m_serve
wait_for 60 m_seen recovered
ok $? "serve: all 20 accounts seen recovered"
wait_for 30 sh -c "test \"\$(ls $M | grep -c '^pg\\..*\\.recovered\$')\" -ge 16"
ok $? "16 recovered commands started and held"
m_stop
# alive PGID: a process of the group, not a zombie (killed, not yet
# reaped by whoever inherited it), with the gate in its arguments (the
# shell and its flock; not whoever got the number since).
alive() {
	ps -e -o pgid=,stat=,args= | awk -v g="$1" -v m="$gate" \
		'$1 == g && $2 !~ /^Z/ && index($0, m) { n++ }
		END { exit n == 0 }'
}
left=0
for f in "$M"/pg.*.recovered; do
	alive "$(cat "$f")" && left=$((left + 1))
done
check "no command left after serve stopped ($left left)" test "$left" = 0
gate_open
started=$(ls "$M" | grep -c '^pg\..*\.recovered$')
recorded=$(grep -l '^sent\.recovered=' "$MB_TMP"/state-many/*.notify | wc -l)
check "recorded as sent: exactly the $started started ($recorded)" \
	test "$recorded" = "$started"
unsent=
for a in $accounts; do
	[ -e "$M/pg.$a.recovered" ] || { unsent=$a; break; }
done
if [ -n "$unsent" ]; then
	before=$(mevents recovered)
	mmb token "$unsent"
	remember_secret "$(cat "$MB_TMP/out")"
	wait_for 10 sh -c "test \"\$(grep -c '^$unsent recovered\$' $M/events)\" = 1"
	ok $? "one never started is sent by the next run ($unsent)"
else
	ok 1 "an account whose command never started (all 20 did)"
fi
for f in "$M"/pg.*; do
	pg=$(cat "$f")
	alive "$pg" && kill -KILL -- "-$pg" 2>/dev/null
done

remember_state_tokens "$MB_TMP/state"
remember_state_tokens "$MB_TMP/state-many"
no_secrets "no secret on stderr" "$MB_TMP/all-stderr"
done_testing
