#!/bin/sh
# SPDX-License-Identifier: MIT
# A fleet: three hosts (three `mailbearer serve`, each with its own
# configuration and socket) share one account at a strictly rotating
# provider through a 3-node TLS etcd cluster (store = etcd) that asks for
# a client certificate and a user and password (a role confined to
# /mailbearer/).  300 clients
# spread across the hosts with no token anywhere make exactly one
# token-endpoint request and all get the same token; then, one token
# lifetime after another, the fleet makes one refresh per lifetime (what
# one host would), every host serves the new token, and the rotated grant
# keeps working.  Nothing readable in the cluster names a token.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/etcd.sh"
. "$top_srcdir/tests/lib/fleet.sh"
fleet_setup --auth --client-cert
u=r@example.com
# a 40-s token: serve refreshes it after 20 s (half its life), and serves
# it while 10 s are left (MB_CACHE_MIN_LEFT): a slow machine has 10 s to
# finish the refresh before a client finds no servable token (with 20-s
# tokens it had none, and a client's load made a second refresh)
rt=$(mockctl account "$u" --client-id cid --rotation strict --access-ttl 40)
remember_secret "$rt"
fleet_hosts 3 "$u" generic "rotation = strict"
printf '%s\n' "$rt" | fleet_mb 1 import "$u"
ok $? "import on host 1 (one grant for the fleet)"
for i in 1 2 3; do
	fleet_serve "$i"
	ok $? "host $i: serve started"
done

# No access token anywhere: 100 clients on each host at once.
pids=
for i in 1 2 3; do
	fleet_ask "$i" "$u" 100 > "$MB_TMP/ans$i" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p"
done
cat "$MB_TMP"/ans1 "$MB_TMP"/ans2 "$MB_TMP"/ans3 > "$MB_TMP/ans"
check "300 answers" test "$(wc -l < "$MB_TMP/ans")" = 300
check "... all OK" test "$(grep -c '^MAILBEARER1 OK ' "$MB_TMP/ans")" = 300
check "... all the same token" \
	test "$(cut -d' ' -f4 "$MB_TMP/ans" | sort -u | wc -l)" = 1
check "exactly one token-endpoint request for 300 clients on 3 hosts" \
	test "$(mockctl count endpoints.token)" = 1
tok1=$(cut -d' ' -f4 "$MB_TMP/ans" | head -n 1)
remember_secret "$tok1"

# Steady load, two more lifetimes: one refresh each, fleet-wide.  Each
# poll asks every host (serve refreshes ahead only a token in use).
more() {
	for m_i in 1 2 3; do
		fleet_ask "$m_i" "$u" > /dev/null
	done
	[ "$(refreshes "$u")" -ge "$1" ]
}
same_token() {
	for sh_i in 1 2 3; do
		fleet_ask "$sh_i" "$u" > "$MB_TMP/one$sh_i" || return 1
		grep -q "^MAILBEARER1 OK [0-9]* $1\$" "$MB_TMP/one$sh_i" ||
			return 1
	done
}
for n in 2 3; do
	check "lifetime $n: a refresh by one host" wait_for 60 more "$n"
	fleet_ask 1 "$u" > "$MB_TMP/cur"
	tok=$(cut -d' ' -f4 "$MB_TMP/cur")
	remember_secret "$tok"
	check "lifetime $n: every host serves the new token" \
		wait_for 10 same_token "$tok"
	check "lifetime $n: exactly $n refreshes so far (one host's count)" \
		test "$(refreshes "$u")" = "$n"
done
check "the rotated grant kept working (no refusal in any host's log)" \
	sh -c "! grep -qi 'invalid_grant\|needs a new refresh token' \
		'$MB_TMP'/host[123].log"
check "every refresh was made under the lock: no host logged a lost lock" \
	sh -c "! grep -q 'lock ended' '$MB_TMP'/host[123].log"

# Each host takes each token once, from its own refresh or from the
# watch, never both: the watch leaves a host's own writes to its refresh.
for i in 1 2 3; do
	own=$(grep -c 'access token refreshed' "$MB_TMP/host$i.log")
	seen=$(grep -c 'a token obtained by another host' "$MB_TMP/host$i.log")
	check "host $i took no token twice ($own refreshed + $seen from the watch <= 3)" \
		test $((own + seen)) -le 3
done

etcd_ctl get --prefix /mailbearer/ > "$MB_TMP/etcd-dump" 2>&1
etcd_ctl get --prefix /mailbearer/ -w json > "$MB_TMP/etcd-dump.json" 2>&1
check "etcdctl get --prefix shows the account's state key" \
	grep -q "^/mailbearer/accounts/$u/state\$" "$MB_TMP/etcd-dump"
remember_mock_tokens
fleet_no_secrets "etcdctl get --prefix shows no token in any encoding" \
	"$MB_TMP/etcd-dump" "$MB_TMP/etcd-dump.json"
for i in 1 2 3; do
	kill -TERM "$(eval echo "\$fleet_pid_$i")"
done
no_secrets "no token in any host's log" "$MB_TMP"/host[123].log
done_testing
