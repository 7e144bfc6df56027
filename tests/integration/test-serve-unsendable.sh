#!/bin/sh
# SPDX-License-Identifier: MIT
# An access token whose expiry the protocol cannot carry (a state file
# with "expires_at": 1e30, as `import` once stored it) gets an answer:
# serve sends ERR internal and says why in its log, instead of leaving
# the client without a word.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
ask() { "$MB_PYTHON" "$CLIENT" "$SOCK" "$@"; }

# 10^30 (read as INT64_MAX), and 10^12, the first value past the
# protocol's 12 digits.
for u in far@example.com near@example.com; do
	mb_account "$u"
	mb token "$u"
	ok $? "first token of $u"
	remember_secret "$(cat "$MB_TMP/out")"
done
st_set far@example.com expires_at "10**30"
st_set near@example.com expires_at "10**12"
check "the state holds an expiry beyond the protocol's" \
	test "$(st_get far@example.com expires_at)" = \
	1000000000000000000000000000000
check "serve started" start_serve
for u in far@example.com near@example.com; do
	ask "MAILBEARER1 TOKEN $u" > "$MB_TMP/answer-$u"
	contains "$u: the client gets ERR internal" "$MB_TMP/answer-$u" \
		"^MAILBEARER1 ERR internal account $u: its access token cannot be sent"
	contains "$u: ... which says what replaces it" "$MB_TMP/answer-$u" \
		"mailbearer token --refresh $u"
	check "$u: serve logs why" wait_for 10 grep -q \
		"account $u: its access token cannot be sent (expiry [0-9]* is beyond" \
		"$MB_TMP/serve.log"
done
stop_pid "$spid"
no_secrets "no secret in the answers or the log" "$MB_TMP"/answer-* \
	"$MB_TMP/serve.log"
done_testing
