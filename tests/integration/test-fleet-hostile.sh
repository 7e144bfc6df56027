#!/bin/sh
# SPDX-License-Identifier: MIT
# The etcd store against a hostile or broken etcd gateway
# (tests/fixtures/fake-etcd.py): malformed and huge replies, values that
# are not base64, wrong types, odd revisions and lease ids, a transaction
# that claims success without its results, watch streams that never end a
# line, carry garbage, are not created or are canceled, authentication
# refused forever, replies slower than the 4-s call timeout, a state sealed
# for another account, a state that opens but is not JSON.  `token`,
# `status`, `import`, `store migrate` and `serve` must neither crash nor
# hang past their bounds, must say what is wrong in one line, must write
# nothing they should not, and must never print a token.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
SEAL=$top_builddir/tests/fixtures/seal-value
built "$SEAL"
token_setup
MAILBEARER_SOCKET=$MB_TMP/no-serve.sock
export MAILBEARER_SOCKET
unset XDG_RUNTIME_DIR

FAKE=$MB_TMP/fake
mkdir -p "$FAKE"
"$MB_PYTHON" "$top_srcdir/tests/fixtures/fake-etcd.py" --dir "$FAKE" \
	--cert "$MB_CA_DIR/server.pem" --key "$MB_CA_DIR/server.key" \
	--lifetime 900 --slow 12 --watch-seconds 20 \
	> "$MB_TMP/fake.log" 2>&1 &
at_exit "stop_pid $!"
wait_for 30 test -s "$FAKE/port" || bail_out "fake etcd did not start"
FAKE_URL=https://127.0.0.1:$(cat "$FAKE/port")
setmode() { printf '%s\n' "$1" > "$FAKE/mode"; }

head -c 32 /dev/urandom > "$MB_TMP/key"
printf 'etcdPASSWORD\n' > "$MB_TMP/etcd.pw"
chmod 600 "$MB_TMP/key" "$MB_TMP/etcd.pw"
remember_secret "faketok-SECRET.1"
remember_secret "etcdPASSWORD"
conf() {
	cat > "$1" <<EOC
store = $2
etcd_endpoints = $FAKE_URL
etcd_ca_file = $MB_CA
etcd_user = mbuser
etcd_password_file = $MB_TMP/etcd.pw
state_key_file = $MB_TMP/key

EOC
	for a in a b; do
		mb_conf_account "$1" "$a@example.com"
	done
}
conf "$MB_CONF" etcd
conf "$MB_TMP/files.conf" files

for a in a b; do
	rt=$(mockctl account $a@example.com --client-id cid)
	remember_secret "$rt"
	printf '%s\n' "$rt" > "$MB_TMP/rt"
	mb import $a@example.com < "$MB_TMP/rt"
	ok $mb_rc "import $a into the well-behaved fake"
done
mb token a@example.com
ok $mb_rc "token a from the well-behaved fake"
AT_A=$(cat "$MB_TMP/out")
remember_secret "$AT_A"

# timed LIMIT CMD...: the command, $el seconds it took; true if within
# LIMIT seconds.
timed() {
	tl=$1; shift
	t0=$(date +%s)
	"$@"
	t_rc=$?
	el=$(( $(date +%s) - t0 ))
	[ "$el" -le "$tl" ]
}
# clean NAME: no sanitizer report, no escape byte, one-line message.
clean() {
	lacks "$1: no sanitizer report" "$MB_TMP/err" \
		'AddressSanitizer\|runtime error\|LeakSanitizer'
	check "$1: no escape byte in the message" \
		sh -c "! grep -q \"$(printf '\033')\" '$MB_TMP/err' '$MB_TMP/out'"
}

# A lock transaction that fails its compare but shows no holder: not
# etcd's (a compare on a lock that does not exist cannot fail).  It used
# to be waited on until the lock's deadline (reply_timeout + 30 s: 330 s)
# with a NULL holder (undefined behaviour).
setmode txn-emptyfail
printf 'rt-c\n' > "$MB_TMP/rt"
import_b() {
	timeout 40 "$MB_HELPER" --config "$MB_CONF" import b@example.com \
		< "$MB_TMP/rt" > "$MB_TMP/out" 2> "$MB_TMP/err"
}
timed 20 import_b
check "txn without a holder: import gives up at once" test "$el" -le 20
cat "$MB_TMP/err" >> "$MB_TMP/all-stderr"
diag "import took ${el}s, rc $t_rc: $(head -c 300 "$MB_TMP/err")"
check "txn without a holder: import fails" test "$t_rc" != 0
contains "txn without a holder: says etcd's reply is not etcd's" \
	"$MB_TMP/err" 'showed no holder'
clean "txn without a holder"

# A lock held by a "host" whose name is terminal escapes and lines.
setmode ""
printf '%s %s\n' "$(printf '/mailbearer/accounts/a@example.com/lock' |
	base64 -w0)" "$(printf '\033[31mevil\nFAKE LINE' | base64 -w0)" \
	> "$FAKE/put"
mb status a@example.com
contains "evil lock holder: status shows the lock" "$MB_TMP/out" \
	'lock: held by .*evil'
clean "evil lock holder"
lacks "evil lock holder: no line of its own" "$MB_TMP/out" '^FAKE LINE'
printf '/mailbearer/accounts/a@example.com/lock' | base64 -w0 > "$FAKE/put"

# A state sealed for another account, under a key etcd names with
# escapes: refused, our own key named.
setmode other-account
mb status b@example.com
cat "$MB_TMP/out" >> "$MB_TMP/err"
contains "another account's value: says so, naming our key" "$MB_TMP/err" \
	'in etcd ./mailbearer/accounts/b@example.com/state. cannot be opened'
clean "another account's value"

# A state of the right account, sealed with the right key, that is not
# JSON (and holds a would-be secret): a clear error, the text not shown.
setmode ""
remember_secret "GARBAGE-SECRET-42"
printf '{"refresh_token": "GARBAGE-SECRET-42' |
	"$SEAL" "$MB_TMP/key" b@example.com state > "$MB_TMP/garbage" ||
	bail_out "seal-value failed"
printf '%s %s\n' "$(printf '/mailbearer/accounts/b@example.com/state' |
	base64 -w0)" "$(tr -d '\n' < "$MB_TMP/garbage" | base64 -w0)" \
	> "$FAKE/put"
mb token b@example.com
check "garbage state: token fails" test "$mb_rc" != 0
contains "garbage state: says it is not a valid state" "$MB_TMP/err" \
	'is not a valid state'
clean "garbage state"

# Replies slower than the call timeout: bounded.
setmode slow
check "slow etcd: token a gives up within 30 s" timed 30 mb token a@example.com
diag "slow: ${el}s rc $t_rc: $(head -c 300 "$MB_TMP/err")"
clean "slow etcd"

# Authentication refused forever: one try, a clear error.
setmode auth-401
check "auth 401 forever: status ends within 30 s" timed 30 mb token a@example.com
contains "auth 401 forever: names etcd_user" "$MB_TMP/err" 'etcd_user'
clean "auth 401"

# Broken replies of every kind: no crash, bounded, nothing leaked.
bad=0
for m in range-badjson range-huge range-b64 range-types range-nullkv \
	range-badrev txn-noresp lease-badid kv-401; do
	setmode "$m"
	for cmd in "token a@example.com" "status"; do
		# shellcheck disable=SC2086
		timed 40 mb $cmd
		diag "$m $cmd: ${el}s rc $t_rc: $(head -c 200 "$MB_TMP/err")"
		if grep -q 'AddressSanitizer\|runtime error' "$MB_TMP/err"; then
			diag "$m $cmd: sanitizer report"
			bad=$((bad + 1))
		fi
		if [ "$el" -gt 40 ]; then
			diag "$m $cmd: took ${el}s"
			bad=$((bad + 1))
		fi
		if [ "$t_rc" -ge 128 ]; then
			diag "$m $cmd: killed by a signal ($t_rc)"
			bad=$((bad + 1))
		fi
	done
done
check "broken replies: no crash, no sanitizer report, each within 40 s" \
	test "$bad" = 0

# migrate out of a store whose listing is too big: refused, nothing moved.
setmode range-huge
mb store migrate --to files
check "huge listing: migrate fails" test "$mb_rc" != 0
diag "migrate: $(cat "$MB_TMP/out" "$MB_TMP/err" | head -c 800)"
clean "huge listing migrate"

# serve's watch: a stream whose events have a null or numeric type and
# no kv, then a cancel.  serve reads again and keeps serving.
setmode watch-nulltype
"$MB_HELPER" --config "$MB_CONF" serve --socket "$MB_TMP/s.sock" \
	--foreground 2> "$MB_TMP/serve.log" &
SERVE_PID=$!
at_exit "stop_pid $SERVE_PID"
check "watch with odd events: the fake sent them" \
	wait_for 30 grep -q 'sent nulltype' "$FAKE/requests"
check "watch with odd events: serve reads again" \
	wait_for 30 grep -q 'etcd watch: .*reading again' "$MB_TMP/serve.log"
check "watch with odd events: serve still runs" kill -0 "$SERVE_PID"
for m in watch-garbage watch-canceled watch-notcreated watch-endless; do
	: > "$FAKE/requests"
	setmode "$m"
	check "watch $m: serve watches again" \
		wait_for 60 grep -q "$m /v3/watch" "$FAKE/requests"
done
check "odd watch streams: serve still runs" kill -0 "$SERVE_PID"
setmode ""
stop_pid "$SERVE_PID"
lacks "serve: no sanitizer report" "$MB_TMP/serve.log" \
	'AddressSanitizer\|runtime error'
cat "$MB_TMP/serve.log" >> "$MB_TMP/all-stderr"
no_secrets "no token, etcd token or password in any message" \
	"$MB_TMP/all-stderr" "$MB_TMP/out"
done_testing
