#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer serve` forces keep-alive and proactive refreshes by handing
# the current token to the token core as "to be replaced".  When such a
# refresh fails transiently (provider down), the still-valid access token
# must stay usable: the state file must not call it "rejected", and
# `mailbearer token` must keep printing it.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
mb_conf_account "$MB_CONF" k@example.com
rt=$(mockctl account k@example.com --client-id cid)
printf '%s\n' "$rt" | mb import k@example.com
ok $? "import"
mb token k@example.com
ok $? "first token"
at=$(cat "$MB_TMP/out")
check "one refresh so far" \
	test "$(mockctl count users.k@example.com.refresh)" = 1

# The provider goes down for longer than serve's attempts.
mockctl fault token 500 --count 1000 > /dev/null
check "serve started" start_serve --keepalive 1
check "the keep-alive refresh was attempted and failed" \
	wait_for 60 grep -q 'keep-alive refresh failed' "$MB_TMP/serve.log"
stop_pid "$spid"
check "the refresh was really attempted" \
	test "$(mockctl count endpoints.token)" -gt 1
check "state: the valid token is not marked rejected" \
	test "$(st_get k@example.com rejected)" = false
check "state: the access token is still the same" \
	test "$(st_get k@example.com access_token)" = "$at"
mb token k@example.com
ok $? "token during the outage: exit 0"
check "... the still-valid token is served" test "$(cat "$MB_TMP/out")" = "$at"
mockctl reset faults > /dev/null
lacks "no access token on stderr" "$MB_TMP/all-stderr" "$at"
lacks "no access token in serve's log" "$MB_TMP/serve.log" "$at"
lacks "no refresh token in serve's log" "$MB_TMP/serve.log" "$rt"
done_testing
