#!/bin/sh
# SPDX-License-Identifier: MIT
# Postfix as the real SMTP client, password mode: the access token is the
# password in smtp_sasl_password_maps.  A private Postfix relays through the
# private Dovecot's submission service (XOAUTH2/OAUTHBEARER checked at the
# mock provider), which relays to an smtp-sink; a message found in the
# sink's dump went through our plugin inside smtp(8).
#   valid token   -> delivered, Dovecot logs the login, no token in the log
#   revoked token -> deferred with the server's 535 and our decoded reason
#   both mechanisms (smtp_sasl_mechanism_filter), a 6000-byte token, the default
#   smtp_sasl_security_options with TLS enforced (smtp_tls_security_level =
#   secure, smtp_sasl_tls_security_options = noanonymous), then a chrooted
#   smtp(8) with
#   debug_peer_list = 127.0.0.1 (where kdexoauth2 made smtp(8) crash).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/postfix.sh"
pf_setup

user=dave@example.com
tok=$(mockctl issue "$user" --ttl 600)
pf_passwd "$user" "$tok"
start_postfix || { echo "Bail out! postfix did not start"; exit 1; }

r=$(postconf -c "$MB_PF_CONF" -h smtp_sasl_security_options)
check "smtp_sasl_security_options is Postfix's default" \
	[ "$r" = "noplaintext, noanonymous" ]
lacks "main.cf does not set smtp_sasl_security_options" \
	"$MB_PF_CONF/main.cf" '^smtp_sasl_security_options'

# deferred_with ID MECH: the message was deferred by the server's 535, and
# the maillog (since pf_mark) shows our decoded reason; then it is removed
# from the queue.
deferred_with() {
	if pf_wait_status "$1" deferred; then ok 0 "$2 revoked: deferred"; else
		ok 1 "$2 revoked: deferred"; mb_diag_file "$MB_PF_LOG"; fi
	pf_log_of "$1" > "$MB_TMP/$1.log"
	contains "$2 revoked: the server's 535 in the maillog" \
		"$MB_TMP/$1.log" "status=deferred \\(SASL authentication failed; \
server 127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\] said: 535 "
	pf_log_since > "$MB_TMP/$1.since"
	contains "$2 revoked: our decoded reason in the maillog" \
		"$MB_TMP/$1.since" \
		"SASL authentication (failure|problem): $2: server rejected \
the access token for $user \\(status "
	if pf_delivered "$1"; then ok 1 "$2 revoked: not delivered"; else
		ok 0 "$2 revoked: not delivered"; fi
	timeout 20 postsuper -c "$MB_PF_CONF" -d ALL >/dev/null 2>&1
}

# --- XOAUTH2 ------------------------------------------------------------
pf_send x1
check "XOAUTH2 valid: delivered to the sink" pf_wait_delivered x1
check "XOAUTH2 valid: status=sent" pf_wait_status x1 sent
contains "XOAUTH2 valid: Dovecot logged the XOAUTH2 login" "$MB_DOVECOT_LOG" \
	"Login: user=<$user>, method=XOAUTH2"
# The secure setting (doc/usage-postfix.md): the token went over TLS, with
# the relay's certificate verified.
r=$(postconf -c "$MB_PF_CONF" -h smtp_tls_security_level \
	smtp_sasl_tls_security_options | tr '\n' ' ')
check "smtp_tls_security_level = secure, smtp_sasl_tls_security_options \
= noanonymous" [ "$r" = "secure noanonymous " ]
contains "XOAUTH2 valid: over a verified TLS connection" "$MB_PF_LOG" \
	'smtp\[[0-9]+\]: Verified TLS connection established to 127\.0\.0\.1'
contains "Dovecot: the login was inside TLS" "$MB_DOVECOT_LOG" \
	"Login: user=<$user>, method=XOAUTH2.*, TLS"

mockctl revoke "$user" --what access > /dev/null
pf_mark
pf_send x2
deferred_with x2 XOAUTH2

# --- OAUTHBEARER ----------------------------------------------------------
tok2=$(mockctl issue "$user" --ttl 600)
pf_passwd "$user" "$tok2"
pf_set smtp_sasl_mechanism_filter=oauthbearer
check "reload with the oauthbearer filter" pf_reload
pf_send o1
check "OAUTHBEARER valid: delivered to the sink" pf_wait_delivered o1
check "OAUTHBEARER valid: status=sent" pf_wait_status o1 sent
contains "OAUTHBEARER valid: Dovecot logged the OAUTHBEARER login" \
	"$MB_DOVECOT_LOG" "Login: user=<$user>, method=OAUTHBEARER"

mockctl revoke "$user" --what access > /dev/null
pf_mark
pf_send o2
deferred_with o2 OAUTHBEARER

# Microsoft-sized access token (JWTs of several KB) in the password table.
big=$(mockctl issue "$user" --ttl 600 --token-bytes 6000)
pf_passwd "$user" "$big"
check "reload with a 6000-byte token" pf_reload
pf_send b1
check "6000-byte token: delivered to the sink" pf_wait_delivered b1
check "6000-byte token: status=sent" pf_wait_status b1 sent

lacks "no token in the maillog (first)" "$MB_PF_LOG" "$tok"
lacks "no token in the maillog (second)" "$MB_PF_LOG" "$tok2"
lacks "no token in the maillog (6000 bytes)" "$MB_PF_LOG" "$big"
lacks "Dovecot logged no protocol error" "$MB_DOVECOT_LOG" \
	'[Pp]rotocol error|[Aa]uthentication aborted|didn.t finish SASL'

# --- chrooted smtp(8) with debug_peer_list --------------------------------
# Postfix's own debug output shows the password (the token): never in
# production, see doc/usage-postfix.md.
tok3=$(mockctl issue "$user" --ttl 600)
pf_passwd "$user" "$tok3"
pf_set smtp_sasl_mechanism_filter=xoauth2 debug_peer_list=127.0.0.1
pf_set_master smtp/unix/chroot=y relay/unix/chroot=y
check "reload with a chrooted smtp and debug_peer_list" pf_reload
pf_send d1
check "chroot+debug XOAUTH2 valid: delivered to the sink" pf_wait_delivered d1
contains "chroot+debug: smtp(8) ran with peer debugging" "$MB_PF_LOG" \
	'smtp\[[0-9]+\]: xsasl_cyrus_client_first'
# The smtp process that delivered d1 (idle now, max_idle 100 s) runs with
# the queue directory as its root.
pf_wait_status d1 sent
d1_pid=$(pf_log_of d1 |
	sed -n 's/.*\/smtp\[\([0-9]*\)\]: .*status=sent.*/\1/p')
r=$(readlink "/proc/${d1_pid:-0}/root" 2>/dev/null)
check "chroot+debug: smtp(8) ran chrooted in the queue directory" \
	[ "$r" = "$MB_PF_QUEUE" ]
mockctl revoke "$user" --what access > /dev/null
pf_mark
pf_send d2
deferred_with d2 XOAUTH2
lacks "no smtp(8) crash (signal, panic, fatal)" "$MB_PF_LOG" \
	'killed by signal|terminated on signal|panic:|fatal:|exit status [1-9]'
check "the master still runs" test -n "$(pf_master_pid)"
done_testing
