#!/bin/sh
# SPDX-License-Identifier: MIT
# The helper's log lines: serve in the foreground stamps each line with an
# ISO 8601 UTC time (not when standard error is the journal's stream,
# which stamps lines itself); one-shot commands do not; no raw epoch in
# any message.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
mb_conf_account "$MB_CONF" ok@example.com
mb_conf_account "$MB_CONF" dead@example.com
mb_conf_account "$MB_CONF" none@example.com
for a in ok dead; do
	rt=$(mockctl account $a@example.com --client-id cid)
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import $a@example.com
done
mockctl revoke dead@example.com --what refresh > /dev/null
iso='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z mailbearer: '

serve_run() {
	"$MB_HELPER" --config "$MB_CONF" serve --foreground \
		--socket "$MB_TMP/s.sock" 2> "$1" &
	spid=$!
	# the start-up check of each of the three accounts has ended (a
	# refresh for ok, failures for dead and none), in whatever order
	wait_for 30 sh -c "[ \$(grep -c 'account [a-z]*@example.com: token check' '$1') -ge 3 ]"
	kill $spid
	wait $spid 2>/dev/null
	cat "$1" >> "$MB_TMP/all-stderr"
}

serve_run "$MB_TMP/serve.err"
n=$(wc -l < "$MB_TMP/serve.err")
check "serve logged its start, checks and stop ($n lines)" test "$n" -ge 5
bad=$(grep -Evc "$iso" "$MB_TMP/serve.err")
check "every line starts with an ISO 8601 UTC time ($bad do not)" \
	test "$bad" = 0
lacks "no raw epoch in any line" "$MB_TMP/serve.err" \
	'(^|[^0-9.:-])1[0-9]{9}([^0-9]|$)'
contains "the access token's expiry as ISO 8601" "$MB_TMP/serve.err" \
	'valid until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'

contains "the account is named once" "$MB_TMP/serve.err" \
	'account none@example\.com: token check failed .*: the account has no tokens yet'
lacks "... not twice" "$MB_TMP/serve.err" \
	'account dead@example\.com: .*account dead@example\.com needs'

# stderr is the journal's stream: JOURNAL_STREAM names its device:inode
: > "$MB_TMP/journal.err"
JOURNAL_STREAM=$(stat -c '%d:%i' "$MB_TMP/journal.err") \
	serve_run "$MB_TMP/journal.err"
check "journal: lines written" test -s "$MB_TMP/journal.err"
lacks "journal: no time of our own" "$MB_TMP/journal.err" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
contains "journal: the plain form" "$MB_TMP/journal.err" '^mailbearer: '
JOURNAL_STREAM=1:2 serve_run "$MB_TMP/other.err"
contains "another stream in JOURNAL_STREAM: times kept" \
	"$MB_TMP/other.err" "$iso"

mb token dead@example.com
check "one-shot: exit 77" test "$mb_rc" = 77
contains "one-shot: a message" "$MB_TMP/err" '^mailbearer: error: '
lacks "one-shot: no time stamp" "$MB_TMP/err" '^[0-9]{4}-'
lacks "one-shot: no raw epoch" "$MB_TMP/err" \
	'(^|[^0-9.:-])1[0-9]{9}([^0-9]|$)'
check "one-shot: one line" test "$(wc -l < "$MB_TMP/err")" = 1

no_secrets "no secret in the logs" "$MB_TMP/all-stderr"
done_testing
