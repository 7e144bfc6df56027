#!/bin/sh
# SPDX-License-Identifier: MIT
# The fleet's commands against a real one-node etcd over TLS (the suite's
# CA): `store migrate` files -> etcd -> files loses nothing, refuses to
# overwrite a destination without --force and leaves the source untouched
# when the destination fails; `etcdctl get --prefix` shows no token in any
# encoding; `store rekey` leaves every state opening with the new key
# only; doctor's fleet checks PASS with etcd up and FAIL with it stopped;
# status shows the etcd key, who refreshed, the lock and the cluster line.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need etcd etcdctl
token_setup
MAILBEARER_SOCKET=$MB_TMP/no-serve.sock
export MAILBEARER_SOCKET
unset XDG_RUNTIME_DIR

# One etcd node, TLS with the suite's CA, on free loopback ports; its
# data directory survives a stop, so a restart finds the states again.
ETCD_PORT=$(free_port)
ETCD_PEER=$(free_port)
ETCD_URL=https://127.0.0.1:$ETCD_PORT
etcd_up() {
	etcdctl --endpoints "$ETCD_URL" --cacert "$MB_CA" \
		--command-timeout=2s endpoint health >/dev/null 2>&1
}
start_etcd() {
	etcd --name n1 --data-dir "$MB_TMP/etcd" \
		--listen-client-urls "$ETCD_URL" \
		--advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
		--initial-cluster "n1=http://127.0.0.1:$ETCD_PEER" \
		--cert-file "$MB_CA_DIR/server.pem" \
		--key-file "$MB_CA_DIR/server.key" \
		>> "$MB_TMP/etcd.log" 2>&1 &
	ETCD_PID=$!
	at_exit "stop_pid $ETCD_PID"
	wait_for 60 etcd_up || { mb_diag_file "$MB_TMP/etcd.log"; return 1; }
}
etcdget() {
	etcdctl --endpoints "$ETCD_URL" --cacert "$MB_CA" \
		--command-timeout=5s get --prefix /mailbearer/ "$@"
}
start_etcd || bail_out "etcd did not start"

head -c 32 /dev/urandom > "$MB_TMP/key1"
head -c 32 /dev/urandom > "$MB_TMP/key2"
chmod 600 "$MB_TMP/key1" "$MB_TMP/key2"
# fleet_conf FILE STORE KEY: the global keys, then the accounts.
fleet_conf() {
	cat > "$1" <<EOC
store = $2
etcd_endpoints = $ETCD_URL
etcd_ca_file = $MB_CA
state_key_file = $3

EOC
	for a in a b c; do
		mb_conf_account "$1" "$a@example.com"
	done
}
fleet_conf "$MB_CONF" files "$MB_TMP/key1"
CONF_FILES=$MB_CONF
CONF_ETCD=$MB_TMP/etcd.conf
fleet_conf "$CONF_ETCD" etcd "$MB_TMP/key1"
CONF_ETCD2=$MB_TMP/etcd2.conf
fleet_conf "$CONF_ETCD2" etcd "$MB_TMP/key2"

for a in a b; do
	rt=$(mockctl account $a@example.com --client-id cid)
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import $a@example.com
done
mb token a@example.com
AT_A=$(cat "$MB_TMP/out")
remember_secret "$AT_A"
remember_state_tokens "$MB_TMP/state"
mkdir "$MB_TMP/before"
cp -p "$MB_TMP/state/a@example.com.json" "$MB_TMP/state/b@example.com.json" \
	"$MB_TMP/before/"

# same_state FILE1 FILE2: every field equal but the write's time and
# generation (each store sets its own).
same_state() {
	"$MB_PYTHON" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("updated", None); d.pop("generation", None)
sys.exit(0 if a == b and a.get("refresh_token") else 1)' "$1" "$2"
}

# --- files -> etcd
mb store migrate --to etcd
ok $mb_rc "migrate --to etcd: exit 0"
contains "migrate: a moved, verified, source removed" "$MB_TMP/out" \
	'^a@example.com: moved from .* to etcd:/mailbearer/accounts/a@example.com/state, verified; the source is removed'
contains "migrate: c has no state, skipped" "$MB_TMP/out" \
	'^c@example.com: skipped: no state'
contains "migrate: summary and next steps" "$MB_TMP/out" \
	'^2 moved, 1 skipped'
contains "migrate: tells to set store = etcd and restart serve" \
	"$MB_TMP/out" 'set `store = etcd`.*restart `mailbearer serve`'
check "migrate: the state files are gone" \
	test ! -e "$MB_TMP/state/a@example.com.json" -a \
	! -e "$MB_TMP/state/b@example.com.json"

# Nothing readable in etcd names a token, in any encoding.
etcdget > "$MB_TMP/etcd-dump" 2>&1
etcdget -w json >> "$MB_TMP/etcd-dump" 2>&1
contains "etcdctl get --prefix: both states are there" "$MB_TMP/etcd-dump" \
	'^/mailbearer/accounts/b@example.com/state$'
cp "$MB_TMP/secrets" "$MB_TMP/forms"
while read -r s; do
	printf '%s' "$s" | base64 -w0; echo
	printf '%s' "$s" | base64 -w0 | tr '+/' '-_' | tr -d '='; echo
done < "$MB_TMP/secrets" >> "$MB_TMP/forms"
leaks=0
while read -r s; do
	[ -n "$s" ] && grep -qF -- "$s" "$MB_TMP/etcd-dump" && leaks=$((leaks + 1))
done < "$MB_TMP/forms"
check "etcdctl get --prefix: no token, plain, base64 or base64url" \
	test "$leaks" = 0 -a "$(grep -c . "$MB_TMP/forms")" -ge 9

# doctor's fleet checks, healthy
MB_CONF=$CONF_ETCD
mb doctor a@example.com
for c in 'PASS etcd: 1/1 endpoints answer over TLS' 'PASS etcd quorum:' \
	'PASS etcd permissions: /mailbearer/check/' \
	'PASS state key: .*key1 \(key id [0-9a-f]{8}\) opens the 2 state'; do
	contains "doctor: $c" "$MB_TMP/out" "^$c"
done

# status of the fleet
mb status a@example.com
ok "$mb_rc" "status of a fleet account: exit 0"
contains "status: the cluster line" "$MB_TMP/out" \
	'^cluster: etcd, 1/1 endpoints answering, quorum yes'
contains "status: the state's etcd key" "$MB_TMP/out" \
	'^  state: etcd:/mailbearer/accounts/a@example.com/state$'
contains "status: who refreshed last" "$MB_TMP/out" \
	"^  last refresh: .* by $(hostname) pid [0-9]+$"
contains "status: the lock is free" "$MB_TMP/out" '^  lock: free$'
mb status --json a@example.com
"$MB_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
c, a = d["cluster"], d["accounts"][0]
sys.exit(0 if c["quorum"] is True and c["answering"] == 1 and
         c["endpoints"] == 1 and a["refreshed_by"] and
         a["lock_holder"] is None and a["state_file"].startswith("etcd:")
         else 1)' "$MB_TMP/out"
ok $? "status --json: cluster, refreshed_by, lock_holder"
MB_CONF=$CONF_FILES

# An existing destination is refused without --force; the source stays.
cp -p "$MB_TMP/before/a@example.com.json" "$MB_TMP/state/"
mb store migrate --to etcd a@example.com
ok "$([ $mb_rc = 75 ] && echo 0 || echo 1)" "existing destination: exit 75"
contains "existing destination: refused, naming --force" "$MB_TMP/out" \
	'^a@example.com: NOT moved: etcd:.* already holds a state; --force replaces it'
check "existing destination: the source is untouched" \
	cmp -s "$MB_TMP/state/a@example.com.json" \
	"$MB_TMP/before/a@example.com.json"
rm -f "$MB_TMP/state/a@example.com.json"

# --- etcd -> files: the round trip loses nothing
mb store migrate --to files
ok $mb_rc "migrate --to files: exit 0"
for a in a b; do
	check "round trip: $a's state equal, tokens and every field" \
		same_state "$MB_TMP/before/$a@example.com.json" \
		"$MB_TMP/state/$a@example.com.json"
done
etcdget --keys-only > "$MB_TMP/keys" 2>&1
lacks "migrate --to files: the states left etcd" "$MB_TMP/keys" '/state$'
mb token a@example.com
check "round trip: the same access token is served" \
	test "$(cat "$MB_TMP/out")" = "$AT_A"

# A failing destination (etcd stopped) leaves the source untouched.
stop_pid "$ETCD_PID"
wait_for 30 sh -c '! kill -0 '"$ETCD_PID"
cp -p "$MB_TMP/state/a@example.com.json" "$MB_TMP/a.copy"
mb store migrate --to etcd a@example.com
ok "$([ $mb_rc = 75 ] && echo 0 || echo 1)" "etcd stopped: migrate exits 75"
contains "etcd stopped: the account is not moved" "$MB_TMP/out" \
	'^a@example.com: NOT moved: .*nothing was changed'
check "etcd stopped: the source is untouched" \
	cmp -s "$MB_TMP/state/a@example.com.json" "$MB_TMP/a.copy"

MB_CONF=$CONF_ETCD
mb doctor a@example.com
ok "$([ $mb_rc = 1 ] && echo 0 || echo 1)" "etcd stopped: doctor exits 1"
contains "etcd stopped: doctor FAILs the endpoints" "$MB_TMP/out" \
	'^FAIL etcd: 0/1 endpoints answer'
contains "etcd stopped: doctor FAILs the quorum" "$MB_TMP/out" \
	'^FAIL etcd quorum: .*; fix: bring back a majority'
mb status a@example.com
ok "$([ $mb_rc = 75 ] && echo 0 || echo 1)" "etcd stopped: status exits 75"
contains "etcd stopped: status says no quorum and why" "$MB_TMP/out" \
	'^cluster: NEEDS ATTENTION: etcd has no quorum: refreshes of rotating accounts wait for the cluster.*valid tokens are still served'
MB_CONF=$CONF_FILES

start_etcd || bail_out "etcd did not start again"
mb store migrate --to etcd
ok $mb_rc "etcd back: migrate --to etcd: exit 0"

# --- rekey: every state opens with the new key only
MB_CONF=$CONF_ETCD
mb store rekey --new-key "$MB_TMP/key1"
ok "$([ $mb_rc = 64 ] && echo 0 || echo 1)" "rekey to the same key: exit 64"
contains "rekey to the same key: refused, saying so" "$MB_TMP/err" \
	'key1 holds the key already in use \(key id [0-9a-f]{8}'
mb store rekey --new-key "$MB_TMP/key2"
ok $mb_rc "rekey: exit 0"
cp "$MB_TMP/out" "$MB_TMP/rekey.out"
contains "rekey: each state re-sealed and verified" "$MB_TMP/rekey.out" \
	'^b@example.com: re-sealed under key [0-9a-f]{8}, verified'
contains "rekey: the old and new key ids" "$MB_TMP/rekey.out" \
	'^old key id [0-9a-f]{8} .*key1\), new key id [0-9a-f]{8} .*key2\): 2 state\(s\) re-sealed, 0 not'
contains "rekey: the next steps" "$MB_TMP/rekey.out" \
	'install .*key2 as state_key_file .* on every host and restart'
mb token a@example.com
ok "$([ $mb_rc = 78 ] && echo 0 || echo 1)" "rekey: the old key opens no state (exit 78)"
contains "rekey: the old key's refusal names both key ids" "$MB_TMP/err" \
	'key id'
mb doctor a@example.com
contains "doctor: names the accounts sealed with another key id" \
	"$MB_TMP/out" '^FAIL state key: .*key1 \(key id [0-9a-f]{8}\) cannot open the state of a@example.com \(key id [0-9a-f]{8}\), b@example.com'
MB_CONF=$CONF_ETCD2
mb token a@example.com
check "rekey: the new key opens a's state, the same token" \
	test "$mb_rc" = 0 -a "$(cat "$MB_TMP/out")" = "$AT_A"
mb doctor a@example.com
contains "doctor with the new key: PASS state key" "$MB_TMP/out" \
	'^PASS state key: .*key2 .* opens the 2 state'
etcdget > "$MB_TMP/etcd-dump2" 2>&1
leaks=0
while read -r s; do
	[ -n "$s" ] && grep -qF -- "$s" "$MB_TMP/etcd-dump2" && leaks=$((leaks + 1))
done < "$MB_TMP/forms"
check "after rekey: etcdctl shows no token" test "$leaks" = 0

# A lock held: a refresh killed right after taking it (its lease keeps
# the lock for MB_FLEET_LEASE_TTL seconds).
test_hooks
# (an inner shell reaps it: its "Killed" goes nowhere)
MB_TEST_CRASH_AT=after-lock sh -c '"$@" > /dev/null 2>> "$MB_TMP/all-stderr" &
	echo $! > "$MB_TMP/crashed.pid"; wait' - "$MB_HELPER" --config "$CONF_ETCD2" \
	token --refresh b@example.com 2> /dev/null
crashed=$(cat "$MB_TMP/crashed.pid")
mb status b@example.com
contains "status: who holds the lock now" "$MB_TMP/out" \
	"^  lock: held by $(hostname) pid $crashed$"
mb status --json b@example.com
"$MB_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["accounts"][0]["lock_holder"] == sys.argv[2] else 1)' \
	"$MB_TMP/out" "$(hostname) pid $crashed"
ok $? "status --json: lock_holder names it"

# A user whose role may only read: doctor's write check FAILs, naming
# the role set-up.
ectl() {
	etcdctl --endpoints "$ETCD_URL" --cacert "$MB_CA" \
		--command-timeout=5s "$@" > /dev/null 2>> "$MB_TMP/etcdctl.err"
}
ectl user add root:rootpw && ectl user grant-role root root &&
	ectl role add mbread &&
	ectl role grant-permission mbread read /mailbearer/ --prefix=true &&
	ectl user add reader:readerpw && ectl user grant-role reader mbread &&
	ectl auth enable
ok $? "etcd: a read-only user and authentication enabled"
printf 'readerpw\n' > "$MB_TMP/reader.pw"
chmod 600 "$MB_TMP/reader.pw"
CONF_RO=$MB_TMP/ro.conf
{ printf 'etcd_user = reader\netcd_password_file = %s\n' "$MB_TMP/reader.pw"
  cat "$CONF_ETCD2"; } > "$CONF_RO"
chmod 600 "$CONF_RO"
MB_CONF=$CONF_RO
mb doctor a@example.com
contains "doctor, read-only user: the write check FAILs, naming the role" \
	"$MB_TMP/out" \
	'^FAIL etcd permissions: cannot write /mailbearer/check/.*; fix: give etcd_user a role with readwrite on the prefix \(doc/fleet.md'
contains "doctor, read-only user: the key check still PASSes" \
	"$MB_TMP/out" '^PASS state key: .*opens the 2 state'

no_secrets "no token in any message or output" "$MB_TMP/all-stderr" \
	"$MB_TMP/rekey.out" "$MB_TMP/out"
done_testing
