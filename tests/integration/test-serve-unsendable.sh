#!/bin/sh
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

u=far@example.com
mb_account "$u"
mb token "$u"
ok $? "first token"
remember_secret "$(cat "$MB_TMP/out")"
st_set "$u" expires_at "10**30"
check "the state holds an expiry beyond the protocol's" \
	test "$(st_get "$u" expires_at)" = 1000000000000000000000000000000
check "serve started" start_serve
ask "MAILBEARER1 TOKEN $u" > "$MB_TMP/answer"
contains "the client gets ERR internal" "$MB_TMP/answer" \
	"^MAILBEARER1 ERR internal account $u: its access token cannot be sent"
contains "... which says what replaces it" "$MB_TMP/answer" \
	"mailbearer token --refresh $u"
check "serve logs why" wait_for 10 grep -q \
	"account $u: its access token cannot be sent (expiry [0-9]* is beyond" \
	"$MB_TMP/serve.log"
stop_pid "$spid"
no_secrets "no secret in the answer or the log" "$MB_TMP/answer" \
	"$MB_TMP/serve.log"
done_testing
