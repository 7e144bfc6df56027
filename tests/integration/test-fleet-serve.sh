#!/bin/sh
# SPDX-License-Identifier: MIT
# serve on a fleet (store = etcd; tokenhelper/fleet-watch.c): three serve
# processes, each with its own socket and configuration, share a one-node
# TLS etcd on 127.0.0.1 and one state_key_file, against the mock provider
# with strict rotation.  One host refreshes and the others serve its token
# from their watch without a request of their own; a state sealed for
# another account put under an account's key is logged and never served;
# with etcd stopped, tokens valid by the clock are still served, a due
# refresh of a rotating account is not made and the log says why; with
# etcd started again the refresh happens, serve never restarted.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need etcd etcdctl
token_setup
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"

# --- a one-node etcd over TLS (the suite's CA signs its certificate) ------
EC_PORT=$(free_port)
EP_PORT=$(free_port)
EC_URL=https://127.0.0.1:$EC_PORT
EC_LOG=$MB_TMP/etcd.log
etcd_start() {
	etcd --name fs1 --data-dir "$MB_TMP/etcd" \
		--listen-client-urls "$EC_URL" --advertise-client-urls "$EC_URL" \
		--listen-peer-urls "http://127.0.0.1:$EP_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$EP_PORT" \
		--initial-cluster "fs1=http://127.0.0.1:$EP_PORT" \
		--cert-file "$MB_CA_DIR/server.pem" \
		--key-file "$MB_CA_DIR/server.key" >> "$EC_LOG" 2>&1 &
	EC_PID=$!
	at_exit "stop_pid $EC_PID"
	wait_for 60 etcd_healthy
}
etcd_healthy() {
	ETCDCTL_API=3 etcdctl --endpoints "$EC_URL" --cacert "$MB_CA" \
		--command-timeout=2s endpoint health > /dev/null 2>&1
}
ectl() {
	ETCDCTL_API=3 etcdctl --endpoints "$EC_URL" --cacert "$MB_CA" \
		--command-timeout=5s "$@"
}
if etcd_start; then ok 0 "etcd answers on $EC_URL"; else
	ok 1 "etcd answers"; mb_diag_file "$EC_LOG"; done_testing; exit 1; fi

head -c 32 /dev/urandom > "$MB_TMP/state.key"
chmod 600 "$MB_TMP/state.key"
# host_conf N: host N's configuration $MB_TMP/hN.conf; r and o on every
# host, d (refresh due 20 s after each token) on host 2 only
host_conf() {
	hc=$MB_TMP/h$1.conf
	cat > "$hc" <<EOC
store = etcd
etcd_endpoints = $EC_URL
etcd_ca_file = $MB_CA
state_key_file = $MB_TMP/state.key

EOC
	MB_ACCT_STATE_DIR=$MB_TMP/state$1 mb_conf_account "$hc" r@example.com
	MB_ACCT_STATE_DIR=$MB_TMP/state$1 mb_conf_account "$hc" o@example.com
	[ "$1" != 2 ] ||
		MB_ACCT_STATE_DIR=$MB_TMP/state$1 mb_conf_account "$hc" \
		d@example.com generic "notify_after = 0
notify = printf '%s %s\\n' \"\$MAILBEARER_EVENT\" \"\$MAILBEARER_REASON\" >> $MB_TMP/notify.log"
}
for h in 1 2 3; do host_conf $h; done
MB_CONF=$MB_TMP/h2.conf
for u in r@example.com o@example.com; do
	rt=$(mockctl account $u --client-id cid --rotation strict)
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import $u
	ok $? "import $u into etcd"
done
rt=$(mockctl account d@example.com --client-id cid --rotation strict \
	--access-ttl 40)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import d@example.com
ok $? "import d@example.com (40-s tokens) into etcd"

# host N: serve of hN.conf on $MB_TMP/hN.sock, its log $MB_TMP/hN.log
host_start() {
	"$MB_HELPER" --config "$MB_TMP/h$1.conf" serve \
		--socket "$MB_TMP/h$1.sock" --foreground \
		2> "$MB_TMP/h$1.log" &
	eval "hpid$1=\$!"
	at_exit "stop_pid $!"
}
ask() { "$MB_PYTHON" "$CLIENT" "$MB_TMP/h$1.sock" "$2"; }
# tok N ACCOUNT: the token host N serves (empty if none)
tok() {
	ask "$1" "MAILBEARER1 TOKEN $2" |
		sed -n 's/^MAILBEARER1 OK [0-9]* //p'
}
# serves N ACCOUNT TOKEN: host N serves exactly TOKEN
serves() { [ "$(tok "$1" "$2")" = "$3" ]; }
refreshes() { mockctl count "users.$1.refresh"; }
# has_token N ACCOUNT: host N serves a token for ACCOUNT
has_token() { [ -n "$(tok "$1" "$2")" ]; }
# serves_other N ACCOUNT TOKEN: host N serves a token, not TOKEN
serves_other() { st_t=$(tok "$1" "$2"); [ -n "$st_t" ] && [ "$st_t" != "$3" ]; }
# more_refreshes ACCOUNT N: the mock counted more than N refreshes
more_refreshes() { [ "$(refreshes "$1")" -gt "$2" ]; }
etcd_gone() { ! kill -0 "$EC_PID" 2> /dev/null; }
for h in 1 2 3; do host_start $h; done
for h in 1 2 3; do
	check "host $h answers" wait_for 30 has_token $h r@example.com
done

# --- one refreshes, the others follow through the watch -----------------
t1=$(tok 1 r@example.com)
remember_secret "$t1"
check "three hosts, one token for r: one refresh request" \
	test "$(refreshes r@example.com)" = 1
check "hosts 2 and 3 serve host 1's token" \
	test -n "$t1" -a "$(tok 2 r@example.com)" = "$t1" \
	-a "$(tok 3 r@example.com)" = "$t1"
r=$(ask 1 "MAILBEARER1 REJECTED r@example.com $t1")
check "host 1 told that a server refused r's token" test "$r" = "MAILBEARER1 DONE"
wait_for 30 serves_other 1 r@example.com "$t1"
t2=$(tok 1 r@example.com)
remember_secret "$t2"
check "host 1 refreshed: a new token" test -n "$t2" -a "$t2" != "$t1"
check "... with one request" test "$(refreshes r@example.com)" = 2
check "host 2 serves host 1's new token (the watch)" \
	wait_for 20 serves 2 r@example.com "$t2"
check "host 3 serves it too" wait_for 20 serves 3 r@example.com "$t2"
check "no host made a request of its own" \
	test "$(refreshes r@example.com)" = 2
contains "host 2's log: the token came from another host" "$MB_TMP/h2.log" \
	'account r@example.com: a token obtained by another host of the fleet'

# --- a value sealed for another account is refused ------------------------
key_r=/mailbearer/accounts/r@example.com/state
key_o=/mailbearer/accounts/o@example.com/state
t_o=$(tok 1 o@example.com)
remember_secret "$t_o"
saved=$(ectl get --print-value-only "$key_r")
ectl get --print-value-only "$key_o" > "$MB_TMP/o.val"
ectl put "$key_r" "$(cat "$MB_TMP/o.val")" > /dev/null
ok $? "o's sealed state put by hand under r's key"
for h in 2 3; do
	check "host $h logs that r's state in etcd is not served" wait_for 20 \
		grep -q "account r@example.com: the state under $key_r in etcd (revision [0-9]*) is not served" \
		"$MB_TMP/h$h.log"
	check "host $h still serves r's own token, not o's" \
		serves $h r@example.com "$t2"
done
ectl put "$key_r" "$saved" > /dev/null
ok $? "r's own state put back"

# --- a reload: the watch goes on with the new configuration --------------
kill -HUP "$hpid3"
check "host 3 reloaded" wait_for 20 grep -q "reloaded $MB_TMP/h3.conf" \
	"$MB_TMP/h3.log"
r=$(ask 1 "MAILBEARER1 REJECTED o@example.com $t_o")
check "host 1 told that a server refused o's token" test "$r" = "MAILBEARER1 DONE"
check "host 1 refreshed o" wait_for 30 serves_other 1 o@example.com "$t_o"
t_o2=$(tok 1 o@example.com)
remember_secret "$t_o2"
check "host 3, reloaded, serves o's new token (the new watch)" \
	wait_for 20 serves 3 o@example.com "$t_o2"

# --- quorum lost: served from memory, nothing rotating refreshed ---------
# d's tokens live 40 s and fall due after 20: one with 25 s or more
# left is not due for 5 s yet (asking for d also marks it used, so that
# host 2 refreshes it when it falls due)
d_fresh() {
	df_l=$(ask 2 'MAILBEARER1 TOKEN d@example.com')
	df_e=$(printf '%s\n' "$df_l" | sed -n 's/^MAILBEARER1 OK \([0-9]*\) .*/\1/p')
	[ -n "$df_e" ] && [ $((df_e - $(date +%s))) -ge 25 ] || return 1
	d1=$(printf '%s\n' "$df_l" | sed -n 's/^MAILBEARER1 OK [0-9]* //p')
}
check "host 2 serves a token of d not due yet" wait_for 60 d_fresh
remember_secret "$d1"
n_d=$(refreshes d@example.com)
kill "$EC_PID"
check "etcd stopped" wait_for 30 etcd_gone
check "host 2 logs once that etcd has no quorum" wait_for 30 \
	grep -q 'etcd: no quorum (.*); tokens valid by the clock are still served' \
	"$MB_TMP/h2.log"
check "host 2 still serves r's token from memory" serves 2 r@example.com "$t2"
check "host 1 too" serves 1 r@example.com "$t2"
# d's refresh falls due: host 2 tries, through the lock, and cannot
check "host 2 tries d's due refresh and says why it is not made" \
	wait_for 40 grep -q 'account d@example.com: proactive refresh failed' \
	"$MB_TMP/h2.log"
check "d's token, valid by the clock, still served" \
	serves 2 d@example.com "$d1"
check "notify: d's refreshes fail because etcd has no quorum" wait_for 30 \
	grep -q '^failing refreshes have failed since .*: etcd has no quorum' \
	"$MB_TMP/notify.log"
check "no refresh request for d without the cluster" \
	test "$(refreshes d@example.com)" = "$n_d"
check "one 'no quorum' line, not one per attempt" \
	test "$(grep -c 'etcd: no quorum' "$MB_TMP/h2.log")" = 1

# --- quorum back: the refresh happens, serve never restarted --------------
if etcd_start; then ok 0 "etcd started again"; else
	ok 1 "etcd started again"; mb_diag_file "$EC_LOG"; fi
check "host 2 logs that refreshing resumes" wait_for 30 grep -q \
	'etcd: quorum back, refreshing resumes' "$MB_TMP/h2.log"
check "d refreshed once etcd answers" wait_for 40 more_refreshes \
	d@example.com "$n_d"
d2=$(tok 2 d@example.com)
remember_secret "$d2"
check "host 2 serves d's new token" test -n "$d2" -a "$d2" != "$d1"
check "notify: d recovered" wait_for 30 grep -q '^recovered ' \
	"$MB_TMP/notify.log"
check "the same serve process all along" kill -0 "$hpid2"
kill -TERM "$hpid2"
gone2() { ! kill -0 "$hpid2" 2> /dev/null; }
check "host 2 stops on SIGTERM, its watch with it" wait_for 10 gone2
no_secrets "no token in any serve log or stderr" "$MB_TMP/h1.log" \
	"$MB_TMP/h2.log" "$MB_TMP/h3.log" "$MB_TMP/all-stderr"
done_testing
