#!/bin/sh
# How often `mailbearer token` reads the state file (the MB_TEST_READ_LOG
# hook of tokenhelper/store.h counts every read): once for a refresh (read
# without the lock, and found unchanged once the lock is held), once for a
# fresh token, once for a forced refresh; the warning about an account
# that needs attention still comes with the token.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
test_hooks
token_setup
MB_TEST_READ_LOG=$MB_TMP/reads
export MB_TEST_READ_LOG

# reads: the number of state-file reads logged since the last call.
reads() {
	n=$(grep -c '^read .*/state/r@example\.com\.json$' "$MB_TEST_READ_LOG" \
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

no_secrets "no secret on stderr" "$MB_TMP/all-stderr"
done_testing
