#!/bin/sh
# SPDX-License-Identifier: MIT
# A stripped STARTTLS never costs the token.  A private Postfix with
# smtp_tls_security_level = may (TLS opportunistic) and the default
# smtp_sasl_security_options (noplaintext, noanonymous) relays to a server
# on 127.0.0.1 that offers AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER and no
# STARTTLS (tests/fixtures/postfix/notls-smtpd.py records every line it receives).
# The access token is in the password table (password mode): libsasl2 must
# find no usable mechanism, so that
#   - no AUTH command reaches the server,
#   - no byte of the token does, raw or base64-encoded at any alignment,
#   - Postfix defers the message for lack of a mechanism, token-free log.
# Fails with a plugin that claims SASL_SEC_NOPLAINTEXT: libsasl2 then picks
# XOAUTH2 on the plaintext session and the token goes out in AUTH.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/postfix.sh"

pf_need
start_ca || bail_out "tests/fixtures/ca.sh failed"

# The recording server.
rec=$MB_TMP/notls.record
pfile=$MB_TMP/notls.port
"$MB_PYTHON" "$top_srcdir/tests/fixtures/postfix/notls-smtpd.py" --record "$rec" \
	--port-file "$pfile" > "$MB_TMP/notls.log" 2>&1 &
notls_pid=$!
at_exit "stop_pid $notls_pid"
if ! wait_for 10 test -s "$pfile"; then
	echo "Bail out! notls-smtpd.py did not start"
	mb_diag_file "$MB_TMP/notls.log"
	exit 1
fi
PF_RELAY_PORT=$(cat "$pfile")

# A token that looks real (RFC 6750 b64token, high entropy).
tok=ya29.NoTLS-$(openssl rand -hex 24)-$(openssl rand -base64 24 |
	tr -d '\n=' | tr '/+' '_-')
user=dave@example.com
pf_passwd "$user" "$tok"
PF_TLS_LEVEL=may PF_MECH="xoauth2 oauthbearer" start_postfix ||
	{ echo "Bail out! postfix did not start"; exit 1; }

r=$(postconf -c "$MB_PF_CONF" -h smtp_tls_security_level \
	smtp_sasl_security_options | tr '\n' ';')
check "may + default noplaintext, noanonymous" \
	[ "$r" = "may;noplaintext, noanonymous;" ]

pf_send nt1
if pf_wait_status nt1 deferred 60; then
	ok 0 "the message is deferred"
else
	ok 1 "the message is deferred"
	mb_diag_file "$MB_PF_LOG"
fi
contains "Postfix talked to the server (EHLO recorded)" "$rec" '^EHLO '
lacks "no AUTH command reached the server" "$rec" '^[Aa][Uu][Tt][Hh]'
lacks "no STARTTLS was attempted on a server that offers none" "$rec" \
	'^STARTTLS'

# Every encoding of the token a client could send: raw, and base64 of it
# starting at each of the three alignments (the part made of whole 3-byte
# groups of the token alone), as in user=...^Aauth=Bearer TOKEN^A^A or
# n,a=...,^Aauth=Bearer TOKEN^A^A.
found=$("$MB_PYTHON" - "$rec" "$tok" <<'EOF'
import base64, sys
data = open(sys.argv[1], "rb").read()
tok = sys.argv[2].encode()
hits = []
if tok in data:
    hits.append("raw")
for k in range(3):
    part = tok[k:]
    part = part[:len(part) - len(part) % 3]
    enc = base64.b64encode(part)
    if enc and enc in data:
        hits.append("base64@%d" % k)
if tok.hex().encode() in data or tok.hex().upper().encode() in data:
    hits.append("hex")
print(" ".join(hits) if hits else "none")
EOF
)
check "no byte of the token reached the server (found: $found)" \
	[ "$found" = none ]

pf_log_of nt1 > "$MB_TMP/nt1.log"
nomech='status=(deferred|bounced) \(SASL authentication failed; '
nomech="${nomech}cannot authenticate to server 127\\.0\\.0\\.1"
nomech="${nomech}\\[127\\.0\\.0\\.1\\]: no mechanism available\\)"
contains "deferred for lack of a usable mechanism" "$MB_TMP/nt1.log" \
	"$nomech"
lacks "not sent" "$MB_TMP/nt1.log" 'status=sent'
lacks "no token in the maillog" "$MB_PF_LOG" "$tok"
done_testing
