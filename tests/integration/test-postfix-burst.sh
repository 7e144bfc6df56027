#!/bin/sh
# SPDX-License-Identifier: MIT
# Postfix: ONE smtp(8) process, chrooted in the queue directory, delivers
# many messages in a row while the access token expires under it
# (smtp_destination_concurrency_limit = 1, a high max_use and max_idle, no
# connection caching so that every message logs in again), with the
# secure TLS options of tests/fixtures/postfix/main.cf.in.  The account's access
# tokens live 20 s (mock provider), `mailbearer serve` refreshes them
# 12 s before they expire (refresh_margin; serve never hands out a token
# with less than 10 s left): every message must be delivered at the
# first attempt (never a 535), by the same smtp process, and serve must
# have refreshed while they went out.
# Then the socket is missing inside the chroot: the plugin's reason in the
# maillog says the path is looked up relative to the chroot and names the
# path to create (the queue directory + the path).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/postfix.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
pf_setup

user=dave@example.com
CONF=$MB_TMP/mailbearer.conf
INSIDE=$MB_TMP/postfix/spool/mailbearer
mkdir -p "$INSIDE"
chmod 0755 "$INSIDE" "$MB_TMP/postfix" "$MB_TMP/postfix/spool"
( umask 077; cat > "$CONF" <<EOF
[relay]
provider = generic
token_endpoint = $MB_PROVIDER_URL/token
client_id = cid
ca_file = $MB_CA
state_dir = $MB_TMP/state
user = $user
allow = postfix
refresh_margin = 12
EOF
)
: > "$MB_TMP/secrets"
rt=$(mockctl account "$user" --client-id cid --access-ttl 20)
printf '%s\n' "$rt" >> "$MB_TMP/secrets"
printf '%s\n' "$rt" | "$MB_HELPER" --config "$CONF" import relay \
	> "$MB_TMP/import.out" 2>&1
ok $? "mailbearer import relay"
refreshes() { mockctl count "users.$user.refresh"; }

"$MB_HELPER" serve --config "$CONF" \
	--socket "$INSIDE/socket,mode=0660,group=postfix" \
	--foreground > "$MB_TMP/serve.log" 2>&1 &
serve_pid=$!
at_exit "stop_pid $serve_pid"
if wait_for 20 test -S "$INSIDE/socket"; then ok 0 "serve listens"; else
	ok 1 "serve listens"; mb_diag_file "$MB_TMP/serve.log"; fi

pf_passwd "$user" mailbearer:relay
PF_CHROOT=y PF_ENV="MAILBEARER_SOCKET=/mailbearer/socket" start_postfix ||
	{ echo "Bail out! postfix (chrooted) did not start"; exit 1; }
pf_set smtp_destination_concurrency_limit=1 default_process_limit=1 \
	max_use=1000 max_idle=300 smtp_connection_cache_on_demand=no
check "reload with one smtp process, max_use 1000" pf_reload

# 12 messages, one every 1.5 s or so: about 25 s, three token refreshes.
# The first message not sent at once ends the burst (no long waits).
N=${MB_BURST_N:-12}
r0=$(refreshes)
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	pf_send "b$i" || diag "pf_send b$i failed"
	if ! pf_wait_status "b$i" sent 15; then
		diag "b$i: not sent within 15 s; the burst stops here"
		break
	fi
	sleep 1.5
done
d=0
for i in $(seq 1 "$N"); do
	pf_delivered "b$i" && d=$((d + 1))
done
check "all $N messages delivered (got $d)" [ "$d" = "$N" ]
deferred=$(grep -c 'status=deferred' "$MB_PF_LOG")
grep 'SASL authentication' "$MB_PF_LOG" | head -3 | diag_stdin
check "none deferred: no expired token reached the server ($deferred)" \
	[ "$deferred" = 0 ]
[ "$deferred" = 0 ] || grep 'status=deferred' "$MB_PF_LOG" | head -3 |
	diag_stdin
pids=$(sed -n 's/.*\/smtp\[\([0-9]*\)\]: .*status=sent.*/\1/p' \
	"$MB_PF_LOG" | sort -u)
check "one smtp process delivered them all ($(echo $pids))" \
	[ "$(echo "$pids" | grep -c .)" = 1 ]
r=$(readlink "/proc/$(echo "$pids" | head -n 1)/root" 2>/dev/null)
check "that smtp(8) ran chrooted in the queue directory" \
	[ "$r" = "$MB_PF_QUEUE" ]
r1=$(refreshes)
check "serve refreshed while they went out ($r0 -> $r1)" \
	[ "$r1" -ge $((r0 + 2)) ]
logins=$(grep -c "submission-login: Info: Login: user=<$user>, method=XOAUTH2" \
	"$MB_DOVECOT_LOG")
check "one XOAUTH2 login per message ($logins)" [ "$logins" -ge "$N" ]
contains "the token went over verified TLS" "$MB_PF_LOG" \
	'smtp\[[0-9]+\]: Verified TLS connection established to 127\.0\.0\.1'

# --- the socket is missing inside the chroot ------------------------------
cp "$MB_PF_LOG" "$MB_TMP/maillog.burst"
stop_postfix
PF_CHROOT=y PF_ENV="MAILBEARER_SOCKET=/mailbearer/missing" start_postfix ||
	{ echo "Bail out! postfix (chrooted) did not start"; exit 1; }
pf_mark
pf_send m1
check "socket missing: deferred" pf_wait_status m1 deferred
pf_log_since > "$MB_TMP/m1.since"
contains "socket missing: the reason names the path" "$MB_TMP/m1.since" \
	'mailbearer serve is not running at /mailbearer/missing'
contains "socket missing: it says the path is relative to the chroot" \
	"$MB_TMP/m1.since" "runs chrooted in $MB_PF_QUEUE, so \
/mailbearer/missing is looked up relative to it"
contains "socket missing: it names the path to create" "$MB_TMP/m1.since" \
	"create the socket at $MB_PF_QUEUE/mailbearer/missing"

remember_state_tokens "$MB_TMP/state"
no_secrets "no token in the maillog, serve's or Dovecot's log" \
	"$MB_PF_LOG" "$MB_TMP/serve.log" "$MB_DOVECOT_LOG"
lacks "no smtp(8) crash (signal, panic, fatal)" "$MB_PF_LOG" \
	'killed by signal|terminated on signal|panic:|fatal:|exit status [1-9]'
done_testing
