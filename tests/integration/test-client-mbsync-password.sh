#!/bin/sh
# SPDX-License-Identifier: MIT
# mbsync (isync), the real binary, with an app password and AuthMechs
# unset, against a private Dovecot that offers AUTH=PLAIN AUTH=LOGIN
# AUTH=XOAUTH2 AUTH=OAUTHBEARER (a passwd-file passdb for PLAIN/LOGIN
# beside the oauth2 one) over STARTTLS, host localhost:
#   no AuthMechs: libsasl2 ranks XOAUTH2 first; the plugin refuses the
#     password in the step that answers mbsync's prompts, before any
#     AUTHENTICATE: mbsync fails with the one line that names AuthMechs,
#     Dovecot logs no authentication attempt;
#   AuthMechs PLAIN (what that line says): the login works with PLAIN and
#     the message arrives;
#   a server without SASL-IR: mbsync sends the bare AUTHENTICATE XOAUTH2,
#     the plugin refuses at the empty challenge, no byte of the password
#     goes out.
# Fails on a plugin that takes every password for a token: mbsync then
# sends AUTHENTICATE XOAUTH2 with the password as the bearer token.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/mbsync.sh"
[ "${MB_SANITIZE:-}" != 1 ] ||
	skip_all "ASan build: mbsync cannot load the ASan-built plugin"
need mbsync
e2e_setup imtest

user=alice@example.com
pass=abcdefghijklmnop

# Dovecot with every mechanism: PLAIN and LOGIN against a passwd-file.
( umask 022; printf '%s:{PLAIN}%s\n' "$user" "$pass" \
	> "$MB_DOVECOT_DIR/passwd" )
sed -i -e 's/^auth_mechanisms = .*/auth_mechanisms = plain login xoauth2 oauthbearer/' \
	"$MB_DOVECOT_CONF"
cat >> "$MB_DOVECOT_CONF" <<EOC
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $MB_DOVECOT_DIR/passwd
}
EOC
offers_all() {
	"$MB_PYTHON" - "$MB_IMAP_PORT" <<'EOP'
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=5)
caps = set(c.capabilities)
c.logout()
want = {"AUTH=PLAIN", "AUTH=LOGIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER",
        "SASL-IR"}
sys.exit(0 if want <= caps else 1)
EOP
}
timeout 20 doveadm -c "$MB_DOVECOT_CONF" reload > "$MB_TMP/reload.out" 2>&1
if wait_for 20 offers_all; then ok 0 "Dovecot offers PLAIN LOGIN XOAUTH2 \
OAUTHBEARER and SASL-IR"; else ok 1 "Dovecot offers all four"
	mb_diag_file "$MB_TMP/reload.out"; mb_diag_file "$MB_DOVECOT_LOG"; fi

MAILDIR=$MB_DOVECOT_DIR/mail/$user
mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
printf 'From: a@example.com\nTo: %s\nSubject: m1\n\nbody of m1\n' "$user" \
	> "$MAILDIR/new/1.mb1.localhost"
chown -R dovecot:dovecot "$MAILDIR"

dovecot_since() { tail -n "+$(( $1 + 1 ))" "$MB_DOVECOT_LOG"; }

# --- AuthMechs unset: refused before anything is sent ----------------------
L1=$MB_TMP/local1
mbrc "$MB_TMP/rc1" "$L1" "Pass $pass"
d0=$(wc -l < "$MB_DOVECOT_LOG")
sync_run "$MB_TMP/m1" "$MB_TMP/rc1" -Dn
check "no AuthMechs: mbsync fails" test "$sync_rc" != 0
contains "no AuthMechs: mbsync shows the line that names AuthMechs" \
	"$MB_TMP/m1" "Error performing SASL authentication step: SASL\\(-4\\): \
no mechanism available: XOAUTH2: \
the password for $user is not an OAuth2 access token \\(not an RFC 6750 \
b64token of at least 32 characters\\), so XOAUTH2 was not used and \
nothing was sent; to log in with the password, add AuthMechs PLAIN LOGIN \
to this account's IMAPAccount in the mbsync configuration"
contains "no AuthMechs: the same line in the log, at LOG_ERR" \
	"$MB_TMP/m1.syslog" "XOAUTH2: the password for $user is not an OAuth2"
lacks "no AuthMechs: mbsync sent no AUTHENTICATE" "$MB_TMP/m1" \
	'AUTHENTICATE'
dovecot_since "$d0" > "$MB_TMP/d1"
check "no AuthMechs: Dovecot saw the session end" \
	wait_for 10 grep -q 'imap-login: .*Disconnected' "$MB_DOVECOT_LOG"
dovecot_since "$d0" > "$MB_TMP/d1"
contains "no AuthMechs: ... with no authentication attempt" "$MB_TMP/d1" \
	'imap-login: .*Disconnected.*\(no auth attempts'
lacks "no AuthMechs: Dovecot saw no XOAUTH2" "$MB_TMP/d1" \
	'XOAUTH2|xoauth2|OAUTHBEARER|oauth2'
if has "$L1" 1; then ok 1 "no AuthMechs: nothing synced"; else
	ok 0 "no AuthMechs: nothing synced"; fi

# --- AuthMechs PLAIN: the login works ---------------------------------------
L2=$MB_TMP/local2
mbrc "$MB_TMP/rc2" "$L2" "Pass $pass
AuthMechs PLAIN"
d0=$(wc -l < "$MB_DOVECOT_LOG")
sync_run "$MB_TMP/m2" "$MB_TMP/rc2" -Dn
check "AuthMechs PLAIN: mbsync exits 0" test "$sync_rc" = 0
[ "$sync_rc" = 0 ] || mb_diag_file "$MB_TMP/m2"
check "AuthMechs PLAIN: the message arrived" has "$L2" 1
dovecot_since "$d0" > "$MB_TMP/d2"
contains "AuthMechs PLAIN: Dovecot logged the PLAIN login" "$MB_TMP/d2" \
	"Login: user=<$user>, method=PLAIN"

# --- a server without SASL-IR (doc/plugin.md): mbsync sends the bare
# AUTHENTICATE command, libsasl2 runs no step inside sasl_client_start,
# and the plugin refuses at the server's empty challenge: the server sees
# the command, never the password.
printf 'protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ ID ENABLE IDLE\n}\n' \
	>> "$MB_DOVECOT_CONF"
no_sasl_ir() {
	"$MB_PYTHON" - "$MB_IMAP_PORT" <<'EOP'
import imaplib, sys
c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=5)
caps = set(c.capabilities)
c.logout()
sys.exit(0 if "AUTH=XOAUTH2" in caps and "SASL-IR" not in caps else 1)
EOP
}
timeout 20 doveadm -c "$MB_DOVECOT_CONF" reload > "$MB_TMP/reload.out" 2>&1
if wait_for 20 no_sasl_ir; then ok 0 "Dovecot without SASL-IR"; else
	ok 1 "Dovecot without SASL-IR"; mb_diag_file "$MB_TMP/reload.out"; fi
L3=$MB_TMP/local3
mbrc "$MB_TMP/rc3" "$L3" "Pass $pass"
sync_run "$MB_TMP/m3" "$MB_TMP/rc3" -Dn
check "no SASL-IR: mbsync fails" test "$sync_rc" != 0
contains "no SASL-IR: the AuthMechs line" "$MB_TMP/m3" \
	"no mechanism available: XOAUTH2: the password for $user is not an \
OAuth2 access token .* add AuthMechs PLAIN LOGIN"
contains "no SASL-IR: the bare command went out" "$MB_TMP/m3" \
	'>>> [0-9]+ AUTHENTICATE XOAUTH2[[:space:]]*$'
# base64 of the password at each alignment, as an XOAUTH2 message has it
found=$("$MB_PYTHON" - "$MB_TMP/m3" "$pass" <<'EOP'
import base64, sys
data = open(sys.argv[1], "rb").read()
pw = sys.argv[2].encode()
hits = [k for k in range(3) if base64.b64encode(
    pw[k:len(pw) - (len(pw) - k) % 3]) in data]
print("raw" if pw in data else hits or "none")
EOP
)
check "no SASL-IR: no byte of the password went out (found: $found)" \
	[ "$found" = none ]

lacks "the password is in no log line of the plugin" "$MB_TMP/m1.syslog" \
	"$pass"
done_testing
