#!/bin/sh
# SPDX-License-Identifier: MIT
# A fleet host killed (SIGKILL) at each point of a refresh, at a strictly
# rotating provider, with a 3-node TLS etcd cluster: another host takes
# over once the dead host's lease ends (MB_FLEET_LEASE_TTL, 15 s) and the
# grant survives, except in the unavoidable window (killed after the
# provider answered and before the answer was written), which is
# reported as such.  Points (MB_TEST_CRASH_AT): after-lock, after-reply,
# after-commit.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/etcd.sh"
. "$top_srcdir/tests/lib/fleet.sh"
test_hooks
fleet_setup
: > "$MB_TMP/hosts.conf"

# kill_at POINT USER: host 1's `token` killed at POINT while refreshing
# USER's due token; then host 2's `token` (bounded: the lease's 15 s and
# a margin) in $MB_TMP/out, its exit status in h2_rc.
kill_at() {
	rt=$(mockctl account "$2" --client-id cid --rotation strict \
		--access-ttl 4)
	remember_secret "$rt"
	for i in 1 2 3; do
		MB_ACCT_STATE_DIR=$MB_TMP/state$i mb_conf_account \
			"$MB_TMP/host$i.conf" "$2" generic "rotation = strict"
	done
	printf '%s\n' "$rt" | fleet_mb 1 import "$2"
	fleet_mb 1 token "$2"
	ok $? "$1: a first token"
	remember_secret "$(cat "$MB_TMP/out")"
	# the 4-s token is due after 2 s (half its life)
	check "$1: the token is due" wait_for 10 due "$2"
	MB_TEST_CRASH_AT=$1 fleet_mb 1 token "$2"
	check "$1: host 1 was killed there (SIGKILL)" test "$mb_rc" = 137
	n1=$(refreshes "$2")
	timeout 60 "$MB_HELPER" --config "$MB_TMP/host2.conf" token "$2" \
		> "$MB_TMP/out" 2> "$MB_TMP/err"
	h2_rc=$?
	cat "$MB_TMP/err" >> "$MB_TMP/all-stderr"
}
# due USER: host 3's status says the access token is due or expired
due() {
	MB_CONF=$MB_TMP/host3.conf mb status "$1" --json >/dev/null
	"$MB_PYTHON" -c 'import calendar, json, sys, time
d = json.load(open(sys.argv[1]))
e = d["accounts"][0].get("access_token_expires_at")
t = calendar.timegm(time.strptime(e, "%Y-%m-%dT%H:%M:%SZ")) if e else 0
sys.exit(0 if t and t - time.time() < 2 else 1)' "$MB_TMP/out"
}
for i in 1 2 3; do
	fleet_conf "$MB_TMP/host$i.conf"
done

# Killed holding the lock, nothing sent: nothing is lost.
kill_at after-lock k1@example.com
check "after-lock: nothing was sent" test "$n1" = 1
check "after-lock: host 2 took over and got a token" test "$h2_rc" = 0
check "... with exactly one refresh request" \
	test "$(refreshes k1@example.com)" = 2
contains "... and said the previous holder stopped" "$MB_TMP/err" \
	"previous holder of the lock .* stopped without releasing it"
remember_secret "$(cat "$MB_TMP/out")"
check "after-lock: the grant survives (a forced refresh on host 3 works)" \
	fleet_mb 3 token --refresh k1@example.com

# Killed after the provider answered, before the answer was written: the
# unavoidable window; the rotated token is lost, and that is said.
kill_at after-reply k2@example.com
check "after-reply: the request had been answered" test "$n1" = 2
check "after-reply: host 2 is refused (the grant was spent): exit 77" \
	test "$h2_rc" = 77
contains "... the log names the host that died mid-refresh" \
	"$MB_TMP/err" "previous holder of the lock .* stopped without"
contains "... and says the answer is lost" "$MB_TMP/err" \
	"the provider's answer is lost"
contains "... and that the account needs authorize" "$MB_TMP/err" \
	"authorize k2@example.com"

# Killed after writing, before releasing the lock: nothing is lost, and
# host 2 serves the token host 1 wrote without a request of its own.
kill_at after-commit k3@example.com
check "after-commit: one request by host 1" test "$n1" = 2
check "after-commit: host 2 got a token" test "$h2_rc" = 0
check "... without a refresh of its own" \
	test "$(refreshes k3@example.com)" = 2
remember_secret "$(cat "$MB_TMP/out")"
check "after-commit: the grant survives (a forced refresh works)" \
	fleet_mb 3 token --refresh k3@example.com

remember_mock_tokens
etcd_ctl get --prefix /mailbearer/ -w json > "$MB_TMP/etcd-dump.json" 2>&1
fleet_no_secrets "no token in the cluster, in any encoding" \
	"$MB_TMP/etcd-dump.json"
no_secrets "no token on stderr" "$MB_TMP/all-stderr"
done_testing
