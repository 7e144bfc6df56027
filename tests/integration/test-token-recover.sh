#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer token --refresh`, the documented recovery after a server
# refused a token: it never prints the token it was run to replace (a
# refused grant exits 77 with nothing on stdout, also while that token is
# valid by the clock), and the automatic forced refresh just made (by
# serve, or by `token` honouring a recorded rejection) does not make it
# wait; its own previous run does, and says for how long.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
cnt() { mockctl count "users.$1.refresh"; }

# --- a refused grant: exit 77, no token -----------------------------------
u=dead@example.com
mb_account "$u"
mb token "$u"
ok $? "the first token"
old=$(cat "$MB_TMP/out")
remember_secret "$old"
mockctl revoke "$u" --what refresh --reason revoked > /dev/null
mb token --refresh "$u"
check "token --refresh answered invalid_grant: exit 77" test "$mb_rc" = 77
check "... nothing on stdout (not the refused token)" test ! -s "$MB_TMP/out"
contains "... the message names authorize" "$MB_TMP/err" \
	"mailbearer authorize $u"
check "... the state says needs_authorize" \
	test "$(st_get "$u" needs_authorize)" = true
mb token --refresh "$u"
check "token --refresh again, the grant known dead: exit 77" \
	test "$mb_rc" = 77
check "... nothing on stdout" test ! -s "$MB_TMP/out"
mb token "$u"
check "plain token still serves the valid token (exit 0, warning)" \
	test "$mb_rc" = 0 -a "$(cat "$MB_TMP/out")" = "$old"

# --- a transient failure: no new token is no token --------------------------
u=down@example.com
mb_account "$u"
mb token "$u"
old=$(cat "$MB_TMP/out")
remember_secret "$old"
mockctl fault token 503 --count 20 > /dev/null
mb token --refresh "$u"
check "token --refresh, provider down: exit 75" test "$mb_rc" = 75
check "... nothing on stdout" test ! -s "$MB_TMP/out"
mockctl reset faults > /dev/null

# --- serve's automatic attempt does not delay the recovery ------------------
u=rej@example.com
mb_account "$u"
mb token "$u"
remember_secret "$(cat "$MB_TMP/out")"
# a server refused the token: serve records it and refreshes (forced);
# `token` honours the recorded refusal the same way
st_set "$u" rejected True
mb token "$u"
ok $? "the automatic forced refresh"
remember_secret "$(cat "$MB_TMP/out")"
check "... recorded as last_forced" test -n "$(st_get "$u" last_forced)" -a \
	"$(st_get "$u" last_forced)" != 0
n=$(cnt "$u")
mb token --refresh "$u"
check "token --refresh right after it: exit 0" test "$mb_rc" = 0
new=$(cat "$MB_TMP/out")
remember_secret "$new"
check "... a refresh was made" test "$(cnt "$u")" = $((n + 1))
check "... a token printed" test -n "$new"

# --- its own previous run does ------------------------------------------------
n=$(cnt "$u")
mb token --refresh "$u"
check "a second token --refresh within 60 s: exit 75" test "$mb_rc" = 75
check "... no refresh made" test "$(cnt "$u")" = "$n"
check "... nothing on stdout" test ! -s "$MB_TMP/out"
contains "... the message says when, and why" "$MB_TMP/err" \
	"\`mailbearer token --refresh\` was run [0-9]* s ago; run it again after .* \(in [0-9]* s"
# and the automatic one is limited by its own stamp, not by --refresh
st_set "$u" rejected True
st_set "$u" last_forced "now - 120"
n=$(cnt "$u")
mb token "$u"
ok $? "the automatic forced refresh is not delayed by token --refresh"
remember_secret "$(cat "$MB_TMP/out")"
check "... a refresh was made" test "$(cnt "$u")" = $((n + 1))

no_secrets "no secret on stderr" "$MB_TMP/all-stderr"
done_testing
