#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer doctor --postfix-config DIR` on a private Postfix
# configuration (read by postconf -c / postmap -c only; no Postfix runs):
# the good configuration passes, and each wrong setting gives its FAIL
# line: no password-table entry for the relayhost, no or a wrong
# mechanism filter, TLS not enforced, noplaintext inside TLS, smtp
# chrooted without the socket inside the chroot; and Postfix without
# SASL is skipped.  Relays that log in with a password (not a token, not
# serve's account) need a filter that keeps XOAUTH2 and OAUTHBEARER out,
# in main.cf or on their transport (doc/plugin.md, "A password is not a
# token"); a table doctor cannot read is reported as that, not as "no
# entry".
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/doctor.sh"
need_helper
command -v postconf > /dev/null 2>&1 || skip_all "no postconf"
need postmap python3
MB_CONF=$MB_TMP/mailbearer.conf
# postfix-account: the table's entry names this account
doc_conf() {
	cat > "$MB_CONF" <<EOC
[alice@example.com]
provider = generic
token_endpoint = https://127.0.0.1:1/token
client_id = cid
state_dir = $MB_TMP/state
$1
EOC
	chmod 600 "$MB_CONF"
}
doc_conf "allow = postfix"
: > "$MB_TMP/all-stderr"
: > "$MB_TMP/secrets"
# A socket for the plugin to find (no serve needed: only its existence
# is checked here).
SOCK=$MB_TMP/serve.sock
"$MB_PYTHON" -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
PF=$MB_TMP/pf
doc_postfix "$PF"
pf() { postconf -c "$PF" -e "$@"; }
pfdoc() { doctor --postfix-config "$PF"; }

pfdoc
check "good configuration: PASS postfix-password" doc_line PASS postfix-password \
	"\[127.0.0.1\]:2525 has an entry in texthash:$PF/sasl_passwd for user alice@example.com"
check "... PASS postfix-account: serve gives the account to smtp's uid" \
	doc_line PASS postfix-account "\[alice@example.com\] allows smtp's uid [0-9]+ \(postfix\)"
check "... PASS postfix-mechs" doc_line PASS postfix-mechs
check "... PASS postfix-tls (level)" doc_line PASS postfix-tls "smtp_tls_security_level = secure"
check "... PASS postfix-tls (SASL options)" doc_line PASS postfix-tls "smtp_sasl_tls_security_options = noanonymous"
check "... PASS postfix-chroot" doc_line PASS postfix-chroot "smtp is not chrooted; serve's socket is at $SOCK"
check "... no postfix FAIL" sh -c "! grep -q '^FAIL postfix' '$MB_TMP/doc.out'"

doc_conf ""
pfdoc
check "postfix's uid not in allow: FAIL postfix-account" \
	doc_line FAIL postfix-account \
	"\[alice@example.com\] does not allow smtp's uid [0-9]+ \(postfix\); fix: add \`allow = postfix\` to \[alice@example.com\]"
printf '[127.0.0.1]:2525 alice@example.com:mailbearer:work\n' > "$PF/sasl_passwd"
pfdoc
check "the table names an account the config lacks: FAIL postfix-account" \
	doc_line FAIL postfix-account \
	"the table sends smtp to account work, which $MB_CONF does not have; fix: add \[work\]"
printf '[127.0.0.1]:2525 alice@example.com:\n' > "$PF/sasl_passwd"
doc_conf "allow = postfix"

pf relayhost=[smtp.example.net]:587
pfdoc
check "no entry for the relayhost: FAIL postfix-password" \
	doc_line FAIL postfix-password \
	"no entry for relayhost \[smtp.example.net\]:587 in smtp_sasl_password_maps \(texthash:$PF/sasl_passwd\); fix: add"
check "... exit 1" test "$doc_rc" = 1
pf relayhost=[127.0.0.1]:2525

pf smtp_sasl_mechanism_filter=
pfdoc
check "no mechanism filter: FAIL postfix-mechs" doc_line FAIL postfix-mechs \
	"smtp_sasl_mechanism_filter = : any mechanism .*; fix: postconf -e smtp_sasl_mechanism_filter=xoauth2"
pf "smtp_sasl_mechanism_filter=plain, login"
pfdoc
check "filter without xoauth2: FAIL postfix-mechs" doc_line FAIL postfix-mechs \
	"smtp_sasl_mechanism_filter = plain, login: neither xoauth2 nor oauthbearer"
pf smtp_sasl_mechanism_filter=oauthbearer
pfdoc
check "filter oauthbearer: PASS" doc_line PASS postfix-mechs

pf smtp_tls_security_level=may
pfdoc
check "TLS level may: FAIL postfix-tls" doc_line FAIL postfix-tls \
	"smtp_tls_security_level = may: .*; fix: postconf -e smtp_tls_security_level=secure"
pf smtp_tls_security_level=encrypt
pfdoc
check "TLS level encrypt: PASS" doc_line PASS postfix-tls "smtp_tls_security_level = encrypt"

pf "smtp_sasl_tls_security_options=noplaintext, noanonymous"
pfdoc
check "noplaintext inside TLS: FAIL postfix-tls" doc_line FAIL postfix-tls \
	"smtp_sasl_tls_security_options = noplaintext, noanonymous: noplaintext excludes XOAUTH2 .*; fix: postconf -e smtp_sasl_tls_security_options=noanonymous"
pf 'smtp_sasl_tls_security_options=$smtp_sasl_security_options'
pfdoc
check "the default (\$smtp_sasl_security_options) is expanded: FAIL" \
	doc_line FAIL postfix-tls "smtp_sasl_tls_security_options = noplaintext, noanonymous"
pf smtp_sasl_tls_security_options=noanonymous

postconf -c "$PF" -F smtp/unix/chroot=y
pfdoc
check "smtp chrooted, no socket inside: FAIL postfix-chroot" \
	doc_line FAIL postfix-chroot \
	"smtp is chrooted in $PF/queue, so the plugin looks for $SOCK: no socket there; fix: give serve a socket there: mailbearer serve --socket $PF/queue$SOCK"
mkdir -p "$PF/queue$MB_TMP"
"$MB_PYTHON" -c 'import socket, sys
socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$PF/queue$SOCK"
pfdoc
check "... with the socket inside the chroot: PASS" doc_line PASS \
	postfix-chroot "smtp is chrooted in its queue directory; serve's socket is at $PF/queue$SOCK"

# --- relays that log in with a password ---------------------------------------
postconf -c "$PF" -F smtp/unix/chroot=n
pw=abcdefghijklmnop
printf '[127.0.0.1]:2525 alice@example.com:%s\n' "$pw" > "$PF/sasl_passwd"
pf smtp_sasl_mechanism_filter=
pfdoc
check "password, no filter: PASS postfix-password says a password" \
	doc_line PASS postfix-password \
	"\[127.0.0.1\]:2525 has an entry in texthash:$PF/sasl_passwd for user alice@example.com \(a password, not a token\)"
check "password, no filter: FAIL postfix-login naming the relay and the fix" \
	doc_line FAIL postfix-login \
	"\[127.0.0.1\]:2525 logs in with a password, not a token \(texthash:$PF/sasl_passwd\), and smtp_sasl_mechanism_filter =  \(main.cf\) lets every mechanism through: libsasl2 picks XOAUTH2 or OAUTHBEARER when the server offers them, and the plugin refuses the password; fix: postconf -e 'smtp_sasl_mechanism_filter = plain, login' and postfix reload \(or, for this destination only, -o smtp_sasl_mechanism_filter=plain,login on its transport in master.cf\)"
check "... no postfix-mechs demand for xoauth2" sh -c \
	"! grep -q 'postfix-mechs' '$MB_TMP/doc.out'"
check "... exit 1" test "$doc_rc" = 1
check "... the password is not shown" sh -c \
	"! grep -q '$pw' '$MB_TMP/doc.out' '$MB_TMP/doc.err'"
pf smtp_sasl_mechanism_filter=xoauth2
pfdoc
check "password, filter xoauth2: FAIL postfix-login" doc_line FAIL \
	postfix-login "\[127.0.0.1\]:2525 logs in with a password, .* smtp_sasl_mechanism_filter = xoauth2 \(main.cf\) asks for them"
pf "smtp_sasl_mechanism_filter=plain, login"
pfdoc
check "password, filter plain, login: PASS postfix-login" doc_line PASS \
	postfix-login "\[127.0.0.1\]:2525 logs in with a password \(texthash:$PF/sasl_passwd\); smtp_sasl_mechanism_filter = plain, login \(main.cf\) keeps it on PLAIN/LOGIN"
pf smtp_sasl_mechanism_filter=
postconf -c "$PF" -P "smtp/unix/smtp_sasl_mechanism_filter=plain,login"
pfdoc
check "password, -o filter on the smtp transport: PASS postfix-login" \
	doc_line PASS postfix-login "\[127.0.0.1\]:2525 .* smtp_sasl_mechanism_filter = plain,login \(-o on smtp in master.cf\) keeps it on PLAIN/LOGIN"
postconf -c "$PF" -PX "smtp/unix/smtp_sasl_mechanism_filter"

# A token in the table, or serve's account, for the relayhost; another
# destination with a password.
tok=ya29.Doctor-$(openssl rand -hex 20)
printf '[127.0.0.1]:2525 alice@example.com:%s\n[smtp.gmail.com]:587 bob@gmail.com:%s\n' \
	"$tok" "$pw" > "$PF/sasl_passwd"
pf smtp_sasl_mechanism_filter=xoauth2
pfdoc
check "token-shaped password: PASS postfix-password, a token" doc_line \
	PASS postfix-password "\[127.0.0.1\]:2525 .* \(a token in the table\)"
check "... PASS postfix-mechs" doc_line PASS postfix-mechs
check "... the other destination's password: FAIL postfix-login" \
	doc_line FAIL postfix-login "\[smtp.gmail.com\]:587 logs in with a password, not a token \(texthash:$PF/sasl_passwd\), and smtp_sasl_mechanism_filter = xoauth2 \(main.cf\) asks for them"
printf 'gmail unix - - n - - smtp\n' >> "$PF/master.cf"
postconf -c "$PF" -P "gmail/unix/smtp_sasl_mechanism_filter=plain,login"
pfdoc
check "... with a transport that keeps XOAUTH2 out: SKIP, names it" \
	doc_line SKIP postfix-login "\[smtp.gmail.com\]:587 logs in with a password .* master.cf's gmail keeps XOAUTH2 and OAUTHBEARER out: not checked whether \[smtp.gmail.com\]:587 is delivered through it"
check "... the token is not shown" sh -c \
	"! grep -q '$tok' '$MB_TMP/doc.out' '$MB_TMP/doc.err'"
printf '[127.0.0.1]:2525 alice@example.com:\n' > "$PF/sasl_passwd"

# A table doctor cannot read (root's 0600 table, doctor as another user):
# postmap's failure and who can read it, not "no entry".
if command -v setpriv > /dev/null 2>&1; then
	chmod 0711 "$MB_TMP"
	chmod 0755 "$PF"
	chmod 0644 "$PF/main.cf" "$PF/master.cf"
	chmod 0600 "$PF/sasl_passwd"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$MB_HELPER" --config /nonexistent doctor --postfix-config "$PF" \
		> "$MB_TMP/doc.out" 2> "$MB_TMP/doc.err"
	diag_stdin < "$MB_TMP/doc.out"
	check "unreadable table: FAIL postfix-password says postmap failed and why" \
		doc_line FAIL postfix-password \
		"postmap -q \[127.0.0.1\]:2525 texthash:$PF/sasl_passwd failed \(postmap: fatal: open database $PF/sasl_passwd: Permission denied\), so whether it has an entry for relayhost \[127.0.0.1\]:2525 is not known; fix: run doctor as root, who can read it \($PF/sasl_passwd: owner root, mode 0600\)"
	check "... not \"no entry\"" sh -c \
		"! grep -q 'no entry for relayhost' '$MB_TMP/doc.out'"
else
	skip "needs setpriv to run doctor as another uid"
fi

pf smtp_sasl_auth_enable=no
pfdoc
check "Postfix without SASL: SKIP postfix" doc_line SKIP postfix \
	"smtp_sasl_auth_enable = no"
check "... no other postfix line" sh -c "! grep -q '^[A-Z]* postfix-' '$MB_TMP/doc.out'"
done_testing
