#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end over SMTP submission: Debian's smtptest loads our plugin and
# logs in to the private Dovecot (AUTH with an initial response), which
# relays to smtp-sink.  Both mechanisms; valid token -> 235 and a message
# is relayed; revoked token -> 334 JSON challenge, our empty / %x01 answer,
# then 535, and our decoded reason as the error detail.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
e2e_setup smtptest

user=dave@example.com
msg="MAIL FROM:<$user>
RCPT TO:<bob@example.com>
DATA
Subject: mailbearer test

hello
.
QUIT"
for mech in XOAUTH2 OAUTHBEARER; do
	out=$MB_TMP/smtp-$mech
	tok=$(mockctl issue "$user" --ttl 600)
	sasl_client "$out.ok" smtptest "$MB_SUBMISSION_PORT" "$mech" "$user" \
		"$tok" "$msg"
	contains "$mech valid: 235" "$out.ok" 'S: 235 '
	contains "$mech valid: authenticated" "$out.ok" '^Authenticated\.'
	contains "$mech valid: message accepted after login" "$out.ok" \
		'^250 2\.0\.0 Ok'
	lacks "$mech valid: token not in the error detail log" \
		"$out.ok.syslog" "$tok"

	mockctl revoke "$user" --what access > /dev/null
	sasl_client "$out.no" smtptest "$MB_SUBMISSION_PORT" "$mech" "$user" \
		"$tok" 'QUIT'
	refused_exchange "$mech revoked" "$out.no" "$mech" "$user" "$tok" \
		'S: 334 eyJ' '^(S: )?535 ' '[Aa]bort|^501'
done
contains "Dovecot relayed the messages" "$MB_DOVECOT_LOG" \
	'Successfully relayed message: from=<dave@example.com>'
lacks "Dovecot logged no protocol error" "$MB_DOVECOT_LOG" \
	'[Pp]rotocol error|[Aa]uthentication aborted|didn.t finish SASL|Error:'
done_testing
