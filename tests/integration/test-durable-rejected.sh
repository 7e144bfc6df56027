#!/bin/sh
# SPDX-License-Identifier: MIT
# A rejection reported through mb_token_report_rejected() is kept in the
# state, so a one-shot `mailbearer token` refreshes instead of printing
# the refused token; forced refreshes are limited to one per
# MB_TOKEN_FORCE_INTERVAL per account across processes, the automatic
# ones (rejected) and the explicit ones (--refresh) each by their own
# previous one; proactive refreshes are not limited and mark nothing.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
API=$top_builddir/tests/fixtures/durable-api
built "$API"
api() { "$API" "$MB_CONF" "$@" > "$MB_TMP/out" 2> "$MB_TMP/err"; }
u=rej@example.com
mb_conf_account "$MB_CONF" "$u"
cnt() { mockctl count "users.$u.refresh"; }
rt=$(mockctl account "$u" --client-id cid --rotation rotate)
printf '%s\n' "$rt" | mb import "$u"
mb token "$u"
at1=$(cat "$MB_TMP/out")
check "first token, one request" test "$(cnt)" = 1
api "$u" report "not-the-current-token"
ok $? "report of another token: ok"
check "another token: the state is not marked" \
	test "$(st_get "$u" rejected)" = false
api "$u" report "$at1"
ok $? "report of the current token: ok"
check "the rejection is in the state" test "$(st_get "$u" rejected)" = true
mb token "$u"
ok $? "one-shot token after the rejection: exit 0"
at2=$(cat "$MB_TMP/out")
check "it refreshed: a new token" test -n "$at2" -a "$at2" != "$at1"
check "one more request" test "$(cnt)" = 2
check "last_forced recorded" test -n "$(st_get "$u" last_forced)" -a \
	"$(st_get "$u" last_forced)" != 0
check "the new token is not marked" test "$(st_get "$u" rejected)" = false
api "$u" report "$at2"
mb token "$u"
rc=$?
check "second rejection within the interval: refused (exit $rc)" \
	test "$rc" != 0
check "no request" test "$(cnt)" = 2
contains "the error says when the next attempt is allowed" \
	"$MB_TMP/err" 'next one is allowed at [0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9:]+Z \(in [0-9]+ s'
check "the rejected token is not printed" test ! -s "$MB_TMP/out"
# `token --refresh` is counted apart: the automatic forced refresh just
# made does not delay it, its own previous call does
api "$u" forced
ok $? "an explicit forced refresh is not delayed by the automatic one"
check "it made a request" test "$(cnt)" = 3
api "$u" forced
check "a second explicit one within the interval is limited" \
	test "$(cnt)" = 3
contains "... and says when it may run again" "$MB_TMP/err" \
	'token --refresh` was run [0-9]+ s ago; run it again after .*\(in [0-9]+ s'
api "$u" proactive
ok $? "a proactive refresh is not limited"
check "it made a request" test "$(cnt)" = 4
check "the proactive refresh marked nothing" \
	test "$(st_get "$u" rejected)" = false
st_set "$u" last_asked "now - 61"
api "$u" forced
ok $? "after the interval: forced refresh allowed"
check "it made a request" test "$(cnt)" = 5
done_testing
