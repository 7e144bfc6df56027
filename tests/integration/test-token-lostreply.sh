#!/bin/sh
# A provider that rotates refresh tokens strictly and answers after our
# timeout has used the token, and the retry is refused with invalid_grant:
# the grant is gone (no client can get it back), and the error says that an
# earlier attempt went unanswered, so nobody looks for a revocation.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
u=late@example.com
mb_conf_account "$MB_CONF" "$u"
rt=$(mockctl account "$u" --client-id cid --rotation strict)
remember_secret "$rt"
printf '%s\n' "$rt" | mb import "$u"
ok $? "import"
# the account's timeout is 2 s; the provider carries out the grant at
# once and answers after 4 s
mockctl fault token late --delay 4 --count 1 > /dev/null
mb token "$u"
check "the token call fails: exit 77 (needs authorize)" [ "$mb_rc" = 77 ]
contains "... naming invalid_grant" "$MB_TMP/err" 'invalid_grant'
contains "... and the unanswered attempt before it" "$MB_TMP/err" \
	'an earlier attempt got no answer; a provider that rotates refresh tokens strictly may have used the token then'
check "the provider saw two requests" \
	[ "$(mockctl count endpoints.token)" = 2 ]
while read -r s; do
	lacks "no secret on stderr" "$MB_TMP/all-stderr" "$s"
done < "$MB_TMP/secrets"
done_testing
