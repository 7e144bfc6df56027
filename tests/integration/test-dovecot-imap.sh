#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end over IMAP: Debian's imtest (cyrus-clients) loads our plugin
# through SASL_PATH and logs in to a private Dovecot whose passdb oauth2
# asks the mock provider (RFC 7662 introspection) about the token.
# Both mechanisms, with SASL-IR and without (imtest -i).
#   valid token   -> tagged OK, "Authenticated.", a SELECT works after it
#   revoked token -> Dovecot's JSON challenge, our empty / %x01 answer, the
#                    tagged NO [AUTHENTICATIONFAILED] (no BAD, no abort),
#                    and our decoded reason as the error detail
#                    (sasl_errdetail: imtest does not print it, so
#                    tests/fixtures/syslog-shim.c records sasl_seterror calls)
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
e2e_setup imtest

user=alice@example.com
cmds='a1 SELECT INBOX
a2 LOGOUT'
n=0
for mech in XOAUTH2 OAUTHBEARER; do
	for ir in ir noir; do
		n=$((n + 1))
		opt=; [ "$ir" = noir ] && opt=-i
		t="$mech $ir"
		out=$MB_TMP/imap-$n

		# A valid token.
		tok=$(mockctl issue "$user" --ttl 600)
		before=$(mockctl count "users.$user.introspect_active")
		sasl_client "$out.ok" imtest "$MB_IMAP_PORT" "$mech" "$user" \
			"$tok" "$cmds" $opt
		contains "$t valid: authenticated" "$out.ok" '^Authenticated\.'
		contains "$t valid: tagged OK from Dovecot" "$out.ok" \
			'A01 OK .*Logged in'
		contains "$t valid: mailbox usable after login" "$out.ok" \
			'^a1 OK \[READ-WRITE\] Select completed'
		if [ "$ir" = ir ]; then
			contains "$t valid: initial response sent" "$out.ok" \
				"C: A01 AUTHENTICATE $mech [A-Za-z0-9+/=]+"
		else
			contains "$t valid: no initial response" "$out.ok" \
				"C: A01 AUTHENTICATE $mech[[:space:]]*\$"
		fi
		after=$(mockctl count "users.$user.introspect_active")
		check "$t valid: Dovecot asked the provider" \
			test "$after" -gt "$before"
		lacks "$t valid: token not in the plugin's log" \
			"$out.ok.syslog" "$tok"

		# A revoked token.
		mockctl revoke "$user" --what access > /dev/null
		sasl_client "$out.no" imtest "$MB_IMAP_PORT" "$mech" "$user" \
			"$tok" "$cmds" $opt
		refused_exchange "$t revoked" "$out.no" "$mech" "$user" "$tok" \
			'S: \+ eyJ' 'A01 NO \[AUTHENTICATIONFAILED\]' \
			'A01 BAD|[Aa]bort'
		lacks "$t revoked: not authenticated" "$out.no" \
			'^Authenticated\.'
	done
done

# An expired token (exp in the past at the provider), and a token issued
# for somebody else: Dovecot rejects both the same way.
tok=$(mockctl issue "$user" --ttl 600)
mockctl expire "$user" --what access > /dev/null
sasl_client "$MB_TMP/imap-exp" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" \
	"$tok" "$cmds"
contains "expired token: NO [AUTHENTICATIONFAILED]" "$MB_TMP/imap-exp" \
	'A01 NO \[AUTHENTICATIONFAILED\]'
tok=$(mockctl issue bob@example.com --ttl 600)
sasl_client "$MB_TMP/imap-other" imtest "$MB_IMAP_PORT" OAUTHBEARER "$user" \
	"$tok" "$cmds"
contains "someone else's token: NO [AUTHENTICATIONFAILED]" \
	"$MB_TMP/imap-other" 'A01 NO \[AUTHENTICATIONFAILED\]'

lacks "Dovecot logged no protocol error" "$MB_DOVECOT_LOG" \
	'[Pp]rotocol|[Aa]borted by client|didn.t finish SASL|Error:'
contains "Dovecot logged the XOAUTH2 login" "$MB_DOVECOT_LOG" \
	'Login: user=<alice@example.com>, method=XOAUTH2'
contains "Dovecot logged the OAUTHBEARER login" "$MB_DOVECOT_LOG" \
	'Login: user=<alice@example.com>, method=OAUTHBEARER'
done_testing
