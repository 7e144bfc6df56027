#!/bin/sh
# SPDX-License-Identifier: MIT
# A rotated refresh token whose state could not be written stays in
# serve's memory, keeps the account working, and is written as soon as the
# state file can be replaced again: the grant survives (strict rotation,
# where the old refresh token died when it was used).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
u=p@example.com
STATE=$MB_TMP/state/$u.json
MB_ACCT_TIMEOUT=20 mb_conf_account "$MB_CONF" "$u"
rt=$(mockctl account "$u" --client-id cid --rotation strict)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import "$u"
mb token "$u"
ok $? "first token"
at=$(cat "$MB_TMP/out")
remember_secret "$at"
rt1=$(st_get "$u" refresh_token)
remember_secret "$rt1"

test_hooks
MB_TEST_FLUSH_RETRY=1
export MB_TEST_FLUSH_RETRY
check "serve started" start_serve
r=$(python3 "$CLIENT" "$SOCK" "MAILBEARER1 TOKEN $u")
check "serve hands out the current token" [ "${r##* }" = "$at" ]

# The provider answers the next refresh after 3 s; meanwhile the state
# file is replaced by a directory, so the new state cannot be renamed
# into place.
mockctl fault token slow --delay 3 --count 1 > /dev/null
n0=$(mockctl count endpoints.token)
r=$(python3 "$CLIENT" "$SOCK" "MAILBEARER1 REJECTED $u $at $u")
check "REJECTED -> DONE" [ "$r" = "MAILBEARER1 DONE" ]
# the refresh's request has reached the provider, which answers in 3 s;
# its new state is written after that
check "the forced refresh's request is at the provider" wait_for 20 \
	sh -c "[ \$(timeout 30 '$MB_PYTHON' '$MB_MOCKCTL_PY' --url '$MB_PROVIDER_URL' --ca '$MB_CA' count endpoints.token) -gt $n0 ]"
rm -f "$STATE"
mkdir "$STATE"
r=$(python3 "$CLIENT" "$SOCK" "MAILBEARER1 TOKEN $u")
check "meanwhile the refused token, still valid, is served" \
	[ "${r##* }" = "$at" ]
check "the write failure is logged" \
	wait_for 30 grep -q "account $u: .*refresh after a rejection" \
	"$MB_TMP/serve.log"
r=$(python3 "$CLIENT" "$SOCK" "MAILBEARER1 TOKEN $u")
new=${r##* }
case $r in "MAILBEARER1 OK "*) ok 0 "the refreshed token is served";;
	*) ok 1 "the refreshed token is served"; diag "got: $r";; esac
remember_secret "$new"
check "... and it is a new one" [ "$new" != "$at" ]
check "... the state file is still not written" [ -d "$STATE" ]
r=$(python3 "$CLIENT" "$SOCK" "MAILBEARER1 TOKEN $u")
check "the new token keeps being served from memory" [ "${r##* }" = "$new" ]

# The obstacle goes: within serve's retry interval (30 s; 1 s in this
# test-hooks build, MB_TEST_FLUSH_RETRY) the state kept in memory is
# written.
rmdir "$STATE"
check "the state kept in memory is written once it can be" \
	wait_for 60 test -f "$STATE"
contains "... and serve says so" "$MB_TMP/serve.log" \
	'(the refreshed state kept in memory is saved now|recovered the state an interrupted write left)'
rt2=$(st_get "$u" refresh_token)
remember_secret "$rt2"
check "... with the rotated refresh token" \
	[ -n "$rt2" ] && [ "$rt2" != "$rt1" ]
check "... and the access token served" [ "$(st_get "$u" access_token)" = "$new" ]
stop_pid "$spid"

# The grant is alive: a refresh with the saved token works.
time_left "$u" -10
mb token "$u"
ok $? "the next refresh works (the grant survived)"
for f in "$MB_TMP/serve.log" "$MB_TMP/all-stderr" "$STATE"; do
	while read -r s; do
		lacks "no secret in $(basename "$f")" "$f" "$s"
	done < "$MB_TMP/secrets"
done
done_testing
