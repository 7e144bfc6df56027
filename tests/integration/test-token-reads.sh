#!/bin/sh
# SPDX-License-Identifier: MIT
# How often `mailbearer token` reads the state file (the MB_TEST_READ_LOG
# hook of tokenhelper/store.h counts every read): once for a refresh (read
# without the lock, and found unchanged once the lock is held), once for a
# fresh token, once for a forced refresh; the warning about an account
# that needs attention still comes with the token; serve reads it once at
# start-up and once per refresh.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
test_hooks
token_setup
MB_TEST_READ_LOG=$MB_TMP/reads
export MB_TEST_READ_LOG

# reads [ACCOUNT]: the number of reads of ACCOUNT's (r@example.com's)
# state file logged since the last call.
reads() {
	n=$(grep -cF "/state/${1:-r@example.com}.json" "$MB_TEST_READ_LOG" \
		2>/dev/null)
	: > "$MB_TEST_READ_LOG"
	echo "${n:-0}"
}

mb_account r@example.com --rotation rotate
: > "$MB_TEST_READ_LOG"
time_left r@example.com -5
mb token r@example.com
ok $? "a due token: refreshed"
remember_secret "$(cat "$MB_TMP/out")"
remember_secret "$(st_get r@example.com refresh_token)"
check "one refresh request" test "$(mockctl count users.r@example.com.refresh)" = 1
n=$(reads)
check "the refresh read the state file once (read: $n)" test "$n" = 1

mb token r@example.com
ok $? "a fresh token"
n=$(reads)
check "... read the state file once (read: $n)" test "$n" = 1

mb token r@example.com --refresh
ok $? "a forced refresh"
remember_secret "$(cat "$MB_TMP/out")"
remember_secret "$(st_get r@example.com refresh_token)"
n=$(reads)
check "... read the state file once (read: $n)" test "$n" = 1
check "two refresh requests" test "$(mockctl count users.r@example.com.refresh)" = 2

# A token still valid from a state that needs attention: printed, with
# the warning and its reason (read from the state once more).
st_set r@example.com needs_authorize True
st_set r@example.com reason '"the provider refused the refresh token (test)"'
: > "$MB_TEST_READ_LOG"
mb token r@example.com
ok $? "needs attention, token still valid: printed"
contains "... with the warning and its reason" "$MB_TMP/err" \
	'needs `mailbearer authorize r@example\.com`: the provider refused the refresh token \(test\)'
n=$(reads)
check "... the state read for the reason too (read: $n)" test "$n" = 2

# serve: the state is read at start-up (a valid token is served from
# memory at once), then once per refresh.
mb_account s@example.com --rotation rotate
time_left s@example.com -5
: > "$MB_TEST_READ_LOG"
start_serve
ok $? "serve started"
wait_for 20 grep -q "s@example.com: access token refreshed" "$MB_TMP/serve.log"
ok $? "serve refreshed the due token"
stop_pid "$spid"
n=$(reads s@example.com)
check "serve: start-up and one refresh read the state file twice (read: $n)" \
	test "$n" = 2
remember_state_tokens "$MB_TMP/state"
cat "$MB_TMP/serve.log" >> "$MB_TMP/all-stderr"

no_secrets "no secret on stderr" "$MB_TMP/all-stderr"
done_testing
