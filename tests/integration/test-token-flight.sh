#!/bin/sh
# SPDX-License-Identifier: MIT
# Single flight across processes: 200 concurrent `mailbearer token` calls
# on an account whose access token has expired make exactly one request
# to the token endpoint, and all get the same new token, even when the
# provider (strict rotation) answers the winner's request only after the
# account's 2-s timeout: a request that has been sent is listened to (up
# to reply_timeout), never abandoned and repeated with the spent token.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
N=200
mb_conf_account "$MB_CONF" f@example.com
rt=$(mockctl account f@example.com --client-id cid --rotation strict)
printf '%s\n' "$rt" | mb import f@example.com
ok $? "import"
mb token f@example.com
ok $? "first token"
old=$(cat "$MB_TMP/out")
check "one refresh so far" test "$(mockctl count users.f@example.com.refresh)" = 1
time_left f@example.com -30
# The provider carries the winner's grant out at once and answers after
# 3 s, beyond the 2-s timeout: nothing here depends on the machine's
# speed, and the others really pile up behind the lock.
mockctl fault token late --delay 3 --count 1 > /dev/null
token_burst expired f@example.com
check "exactly one more refresh request for $N callers" \
	test "$(mockctl count users.f@example.com.refresh)" = 2
check "exactly one more token-endpoint request" \
	test "$(mockctl count endpoints.token)" = 2
new=$(cat "$MB_TMP/runs-expired/0.out")
check "a new token" test -n "$new" -a "$new" != "$old"
time_left f@example.com -30
mb token f@example.com
ok $? "strict rotation: the refresh token the winner saved works"
check "third refresh request" test "$(mockctl count users.f@example.com.refresh)" = 3
check "no errors on stderr" test -z "$(cat "$MB_TMP"/runs-expired/*.err | grep -v 'info\|refreshed')"
done_testing
