#!/bin/sh
# SPDX-License-Identifier: MIT
# The etcd test cluster itself (tests/lib/etcd.sh), with etcdctl and curl
# only: 3 nodes with TLS, auth confined to /mailbearer/ and client
# certificates; writes survive one node down, fail without quorum and work
# again once the nodes are back; the gRPC-JSON gateway (what mailbearer's
# libcurl client talks to) answers with the library's certificate and the
# user's token; no etcd process is left, even by a test that fails or is
# killed.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/etcd.sh"

etcd_need
need curl base64
start_ca || bail_out "tests/fixtures/ca.sh failed"

# timed WHAT CMD...: runs CMD; its time as a diagnostic (what is measured
# here, never asserted); CMD's status.
timed() {
	what=$1; shift
	t0=$(date +%s%N)
	"$@"
	rc=$?
	tenths=$(( ($(date +%s%N) - t0) / 100000000 ))
	diag "$what: $((tenths / 10)).$((tenths % 10)) s"
	return $rc
}

timed "cluster with auth and client certificates up" \
	etcd_cluster_start --auth --client-cert ||
	bail_out "etcd cluster (--auth --client-cert) did not start"
check "ETCD_ENDPOINTS names 3 https endpoints on 127.0.0.1" \
	test "$(echo "$ETCD_ENDPOINTS" | tr , '\n' |
		grep -c '^https://127\.0\.0\.1:[0-9][0-9]*$')" = 3
check "the password file is mode 0600" \
	test "$(stat -c %a "$ETCD_PASSWORD_FILE")" = 600

ETCD_AS=mbuser etcd_ctl put /mailbearer/k v1 > "$MB_TMP/put.out" 2>&1
check "mbuser writes under /mailbearer/" test $? = 0
ETCD_AS=mbuser etcd_ctl get --print-value-only /mailbearer/k \
	> "$MB_TMP/get.out" 2>&1
contains "mbuser reads it back" "$MB_TMP/get.out" '^v1$'
etcd_ctl put /other/k x > /dev/null 2>&1
ETCD_AS=mbuser etcd_ctl get /other/k > "$MB_TMP/deny.out" 2>&1
check "mbuser: a get outside the prefix fails" test $? != 0
contains "... as permission denied" "$MB_TMP/deny.out" 'permission denied'

# The gateway, as libcurl will use it: CA, client certificate, token.
gw() {
	path=$1 body=$2; shift 2
	curl -sS -m 20 --cacert "$ETCD_CA" "$@" \
		"https://127.0.0.1:${port:-$ETCD_PORT_1}$path" -d "$body" 2>&1
}
cert="--cert $ETCD_CERT --key $ETCD_KEY"
# (the password in a 0600 file curl reads, never in its argv)
( umask 077; printf '{"name":"%s","password":"%s"}' "$ETCD_USER" \
	"$(cat "$ETCD_PASSWORD_FILE")" > "$MB_TMP/auth.json" )
# shellcheck disable=SC2086
tok=$(gw /v3/auth/authenticate "@$MB_TMP/auth.json" $cert |
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
check "gateway: the user's password gives a token" test -n "$tok"
key=$(printf /mailbearer/k | base64 -w0)
# shellcheck disable=SC2086
gw /v3/kv/range "{\"key\":\"$key\"}" $cert -H "Authorization: $tok" \
	> "$MB_TMP/gw.out"
contains "gateway: a range with certificate and token reads the value" \
	"$MB_TMP/gw.out" "\"value\":\"$(printf v1 | base64 -w0)\""
gw /v3/kv/range "{\"key\":\"$key\"}" -H "Authorization: $tok" \
	> "$MB_TMP/gw-nocert.out"
lacks "gateway: no client certificate, no answer" "$MB_TMP/gw-nocert.out" \
	'"kvs"'
# shellcheck disable=SC2086
gw /v3/kv/range "{\"key\":\"$key\"}" $cert > "$MB_TMP/gw-notok.out"
contains "gateway: no token is refused" "$MB_TMP/gw-notok.out" \
	'user name is empty'

timed "node 1 stopped" etcd_node_stop 1
ETCD_AS=mbuser etcd_ctl put /mailbearer/k v2 > /dev/null 2>&1
check "one node down: writes still work" test $? = 0
timed "node 2 stopped" etcd_node_stop 2
timed "until a write failed" etcd_quorum_lost_wait
check "two nodes down: a write fails" test $? = 0
# (etcdctl cannot: its log-in needs the quorum; a token got before can.)
# shellcheck disable=SC2086
port=$ETCD_PORT_3
gw /v3/kv/range "{\"key\":\"$key\",\"serializable\":true}" $cert \
	-H "Authorization: $tok" > "$MB_TMP/serial.out"
port=
contains "two nodes down: a serializable range still reads (gateway)" \
	"$MB_TMP/serial.out" "\"value\":\"$(printf v2 | base64 -w0)\""
timed "node 1 back and writing" etcd_node_start 1
check "node 1 back: the cluster writes again" test $? = 0
timed "node 2 back and writing" etcd_node_start 2
check "node 2 back: writes through it" test $? = 0
ETCD_AS=mbuser etcd_ctl get --print-value-only /mailbearer/k \
	> "$MB_TMP/get2.out" 2>&1
contains "the value written with one node down is there" \
	"$MB_TMP/get2.out" '^v2$'

timed "cluster stopped" etcd_cluster_stop
check "etcd_cluster_stop: no etcd process left" test -z "$(etcd_left)"

# Without options: server TLS only; the gateway answers without a client
# certificate or token.
timed "cluster without auth up" etcd_cluster_start ||
	bail_out "etcd cluster did not start"
etcd_ctl put /mailbearer/plain p > /dev/null 2>&1
check "no auth: etcdctl writes" test $? = 0
gw /v3/kv/range "{\"key\":\"$(printf /mailbearer/plain | base64 -w0)\"}" \
	> "$MB_TMP/gw-plain.out"
contains "no auth: the gateway answers without certificate or token" \
	"$MB_TMP/gw-plain.out" "\"value\":\"$(printf p | base64 -w0)\""
etcd_cluster_stop

# A test that fails after starting a cluster (exit through its at_exit
# hooks), and one killed by SIGKILL (the watchdogs): nothing left either.
child() {
	printf '%s\n' ". \"$top_srcdir/tests/lib/tap.sh\"" \
		". \"$top_srcdir/tests/lib/servers.sh\"" \
		". \"$top_srcdir/tests/lib/etcd.sh\"" \
		'etcd_cluster_start || exit 3' \
		'echo "$ETCD_DIR" > "$1"' "$1" > "$MB_TMP/child.sh"
	TMPDIR=$MB_TMP sh "$MB_TMP/child.sh" "$MB_TMP/child.dir" \
		> "$MB_TMP/child.out" 2>&1
}
left_in() { pgrep -f -- "--data-dir $1/n" > /dev/null; }
gone() { ! left_in "$1"; }
child 'exit 1'
check "a failing test that started a cluster exits 1" test $? = 1
dir=$(cat "$MB_TMP/child.dir")
check "... and leaves no etcd process" gone "$dir"
rm -f "$MB_TMP/child.dir"
child 'kill -KILL $$' &
kid=$!
wait_for 120 test -s "$MB_TMP/child.dir"
dir=$(cat "$MB_TMP/child.dir")
wait "$kid"
check "a test killed by SIGKILL: the watchdogs stop its nodes" \
	etcd_wait 30 gone "$dir"

done_testing
