#!/bin/sh
# SPDX-License-Identifier: MIT
# What one-shot `mailbearer token` (mbsync's PassCmd, msmtp's
# passwordeval...) and `mailbearer status` tell the truth about: a
# rejection persisted in the state is honoured, `token --refresh` forces a
# refresh (rate-limited), an account that needs re-authorization warns on
# stderr while its token lasts and exits 77 after, and `status` never says
# "ok" for an account with no usable token and a last error.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
for a in p f; do
	mb_conf_account "$MB_CONF" "$a@example.com"
	rt=$(mockctl account "$a@example.com" --client-id cid)
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import "$a@example.com"
done
cnt() { mockctl count "users.$1@example.com.refresh"; }

mb token p@example.com
at1=$(cat "$MB_TMP/out")
remember_secret "$at1"
check "first token" test "$mb_rc" = 0 -a -n "$at1"

# --- a rejection persisted in the state (serve records the plugin's) ---
st_set p@example.com rejected True
mb status p@example.com
contains "status: shows the rejection" "$MB_TMP/out" \
	'^  rejected: yes \(a server refused this access token'
contains "status: the token line says so" "$MB_TMP/out" \
	'valid until .*, but refused by a server'
mb token p@example.com
at2=$(cat "$MB_TMP/out")
remember_secret "$at2"
check "rejected token: token exits 0" test "$mb_rc" = 0
check "rejected token: not printed again, refreshed" \
	test -n "$at2" -a "$at2" != "$at1"
check "rejected token: one refresh" test "$(cnt p)" = 2
mb status p@example.com
contains "status after the refresh: not rejected" "$MB_TMP/out" \
	'^  rejected: no$'

# --- token --refresh forces a refresh, at most one a minute ---
# (The refresh of the rejected token was a forced one too: a minute on.)
st_set p@example.com last_forced 'now - 61'
mb token --refresh p@example.com
at3=$(cat "$MB_TMP/out")
remember_secret "$at3"
check "--refresh: exit 0" test "$mb_rc" = 0
check "--refresh: a new token although the old one was valid" \
	test -n "$at3" -a "$at3" != "$at2"
check "--refresh: one more refresh request" test "$(cnt p)" = 3
mb status p@example.com
contains "status: shows the last forced refresh" "$MB_TMP/out" \
	'^  last forced refresh: [0-9]{4}-'
mb token --refresh p@example.com
check "--refresh again at once: exit 75 (rate-limited)" test "$mb_rc" = 75
contains "--refresh again: says when the next is allowed" "$MB_TMP/err" \
	'[0-9]+ s|after|allowed'
check "--refresh again: no request" test "$(cnt p)" = 3
check "--refresh again: nothing printed" test ! -s "$MB_TMP/out"
mb token p@example.com --refresh --format xoauth2
check "--refresh after the command's operand is accepted" \
	test "$mb_rc" = 75

# --- the grant died (found by serve's keep-alive): warn, then 77 ---
st_set p@example.com needs_authorize True
st_set p@example.com reason '"the provider refused the refresh token" +
	" (expired or revoked); run `mailbearer authorize`"'
mb token p@example.com
check "needs authorize, token still valid: exit 0" test "$mb_rc" = 0
check "needs authorize: the valid token is printed" \
	test "$(cat "$MB_TMP/out")" = "$at3"
contains "needs authorize: a warning on stderr" "$MB_TMP/err" \
	'warning: account p@example\.com needs `mailbearer authorize p@'
contains "needs authorize: the warning says until when" "$MB_TMP/err" \
	'valid until [0-9]{4}-.*exit status 77'
check "needs authorize: no request" test "$(cnt p)" = 3
mb status p@example.com
check "status: exit 77 when an account needs authorize" test "$mb_rc" = 77
lacks "status: not ok" "$MB_TMP/out" '^  status: ok'
time_left p@example.com -5
mb token p@example.com
check "needs authorize, token expired: exit 77" test "$mb_rc" = 77
check "needs authorize, token expired: nothing printed" \
	test ! -s "$MB_TMP/out"
contains "needs authorize: says what to run" "$MB_TMP/err" \
	'mailbearer authorize p@example.com'

# --- no access token and a failed refresh: status is not "ok" ---
mockctl fault token 503 --count 3
mb token f@example.com
check "refresh fails, no token: exit 75" test "$mb_rc" = 75
mb status f@example.com
check "status: exit 75 (temporary failure)" test "$mb_rc" = 75
lacks "status: not ok" "$MB_TMP/out" '^  status: ok'
contains "status: says it is failing" "$MB_TMP/out" \
	'^  status: FAILING: no usable access token'
contains "status: shows the last error" "$MB_TMP/out" '^  last error: .*503'
mb token f@example.com
check "the provider is back: token" test "$mb_rc" = 0
remember_secret "$(cat "$MB_TMP/out")"
mb status f@example.com
contains "status: ok again" "$MB_TMP/out" '^  status: ok$'
check "status: exit 0" test "$mb_rc" = 0

no_secrets "no token in any stderr output" "$MB_TMP/all-stderr"
done_testing
