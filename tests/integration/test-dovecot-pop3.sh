#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end over POP3: Debian's pop3test loads our plugin and logs in to
# the private Dovecot (AUTH with an initial response, RFC 5034); both
# mechanisms; valid token -> +OK and STAT works; revoked token -> the JSON
# challenge, our empty / %x01 answer, then -ERR [AUTH], our decoded reason
# as the error detail.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
e2e_setup pop3test

user=carol@example.com
for mech in XOAUTH2 OAUTHBEARER; do
	out=$MB_TMP/pop3-$mech
	tok=$(mockctl issue "$user" --ttl 600)
	sasl_client "$out.ok" pop3test "$MB_POP3_PORT" "$mech" "$user" \
		"$tok" 'STAT
QUIT'
	contains "$mech valid: +OK Logged in" "$out.ok" 'S: \+OK Logged in'
	contains "$mech valid: authenticated" "$out.ok" '^Authenticated\.'
	contains "$mech valid: STAT works after login" "$out.ok" '^\+OK 0 0'
	lacks "$mech valid: token not in the error detail log" \
		"$out.ok.syslog" "$tok"

	mockctl revoke "$user" --what access > /dev/null
	sasl_client "$out.no" pop3test "$MB_POP3_PORT" "$mech" "$user" \
		"$tok" 'QUIT'
	refused_exchange "$mech revoked" "$out.no" "$mech" "$user" "$tok" \
		'S: \+ eyJ' '-ERR \[AUTH\]' '[Aa]bort|Protocol'
done
lacks "Dovecot logged no protocol error" "$MB_DOVECOT_LOG" \
	'[Pp]rotocol error|[Aa]uthentication aborted|didn.t finish SASL|Error:'
done_testing
