#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer doctor --login URL`: a real XOAUTH2 login with libcurl and
# the account's token against the private Dovecot (which checks the token
# at the mock provider), over IMAP and SMTP submission (STARTTLS with the
# test CA): accepted, then, once the provider has expired the token that
# the helper still holds, refused with Dovecot's error challenge decoded
# and advice; then against the fake Microsoft server
# (tests/fixtures/fake-ms-server.py): its final replies without a
# challenge (IMAP NO AUTHENTICATE failed., SMTP 535 5.7.3, 5.7.139 and
# Gmail's 5.7.8) each mapped to its advice, and the token it accepts
# passing over both protocols.  The token is never printed, in any form a
# server may echo (raw, base64 of itself, of the XOAUTH2 or OAUTHBEARER
# message).  Loopback is the URL's host, parsed and compared exactly:
# names that only start like it (localhost.evil.test, 127.evil.test,
# 127.0.0.1@evil.test, mapped to 127.0.0.1 by /etc/hosts in a private
# mount namespace) get no token without STARTTLS.
if [ -z "${MB_DOCLOGIN_NS:-}" ] && [ "$(id -u)" = 0 ] &&
    unshare --mount --propagation private true 2> /dev/null; then
	MB_DOCLOGIN_NS=1 exec unshare --mount --propagation private \
		sh "$0" "$@"
fi
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/doctor.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (private Dovecot)"
command -v dovecot > /dev/null 2>&1 || skip_all "no dovecot"
[ -x /usr/sbin/smtp-sink ] || need smtp-sink
token_setup
start_dovecot || { echo "Bail out! dovecot did not start"; exit 1; }

user=alice@example.com
doc_account "$user"
ok $? "import"
check "serve started" doc_serve
imap=imap://127.0.0.1:$MB_IMAP_PORT
smtp=smtp://127.0.0.1:$MB_SUBMISSION_PORT

doctor "$user" --socket "$SOCK" --login "$imap" --ca-file "$MB_CA"
ok $? "IMAP login accepted: exit 0"
check "... PASS login with the server's answer" doc_line PASS login \
	"\[$user\] XOAUTH2 login as $user at $imap accepted: "
doctor "$user" --socket "$SOCK" --login "$smtp" --ca-file "$MB_CA"
ok $? "SMTP submission login accepted: exit 0"
check "... PASS login" doc_line PASS login "\[$user\] XOAUTH2 login as $user at $smtp accepted: "
at=$(st_get "$user" access_token)
remember_secret "$at"
# the server's CA is the test CA: the fix names doctor's --ca-file
doctor "$user" --socket "$SOCK" --login "$imap"
check "no --ca-file, the server's CA not the system's: FAIL login" \
	doc_line FAIL login "\[$user\] $imap: .*; fix: give --ca-file the CA"
lacks "... not the account's ca_file" "$MB_TMP/doc.out" "set ca_file"
sh "$top_srcdir/tests/fixtures/ca.sh" "$MB_TMP/ca2" 2> /dev/null
doctor "$user" --socket "$SOCK" --login "$imap" --ca-file "$MB_TMP/ca2/ca.pem"
check "--ca-file of another CA: FAIL login, the --ca-file fix" \
	doc_line FAIL login "\[$user\] $imap: .*; fix: give --ca-file the CA that signed the server's certificate \(or leave --ca-file out"
lacks "... not the account's ca_file" "$MB_TMP/doc.out" "set ca_file"

# The provider forgets the access token; the helper still holds it.
mockctl expire "$user" --what access > /dev/null
doctor "$user" --socket "$SOCK" --login "$imap" --ca-file "$MB_CA"
check "IMAP login refused: exit 1" test "$doc_rc" = 1
check "... FAIL login with the decoded challenge and advice" \
	doc_line FAIL login \
	"\[$user\] $imap refused XOAUTH2 for $user: error challenge \{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"mail\"\}.*; fix: the server refused the token"
doctor "$user" --socket "$SOCK" --login "$smtp" --ca-file "$MB_CA"
check "SMTP login refused: FAIL login, the 535 and the challenge" \
	doc_line FAIL login \
	"\[$user\] $smtp refused XOAUTH2 for $user: error challenge \{\"status\":\"401\".*\}.*; fix: the server refused"

# Microsoft (and Gmail's SMTP) answer with a final reply and no
# challenge: the advice follows the reply.  The fake Microsoft server of
# the client tests (tests/fixtures/fake-ms-server.py) answers as
# Microsoft does, or with --reply REPLY; it accepts the token in
# $MB_TMP/ms.accept.
ms_login() {
	proto=$1
	rm -f "$MB_TMP/ms.port"
	if [ $# -gt 1 ]; then
		set -- --reply "$2" "$proto"
	else
		set -- "$proto"
	fi
	timeout 60 "$MB_PYTHON" "$top_srcdir/tests/fixtures/fake-ms-server.py" \
		"$@" "$MB_TMP/ms.port" "$MB_TMP/ms.log" "$MB_TMP/ms.accept" &
	ms_pid=$!
	wait_for 10 test -s "$MB_TMP/ms.port"
	doctor "$user" --socket "$SOCK" \
		--login "$proto://${ms_host:-127.0.0.1}:$(cat "$MB_TMP/ms.port")"
	kill "$ms_pid" 2>/dev/null
	wait "$ms_pid" 2>/dev/null
}
ms_login imap
check "Microsoft IMAP NO AUTHENTICATE failed.: FAIL login, the token's audience and mailbox" \
	doc_line FAIL login ".* refused XOAUTH2 for $user: final reply [A-Z0-9]* NO AUTHENTICATE failed\..*; fix: Microsoft refused the token: check that its scope"
ms_login smtp
check "Microsoft SMTP 535 5.7.3: FAIL login, the token's audience and mailbox" \
	doc_line FAIL login ".*final reply 535 5.7.3 Authentication unsuccessful .*; fix: Microsoft refused the token: check that its scope"
ms_login smtp "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
check "535 5.7.139: FAIL login, SMTP AUTH disabled" doc_line FAIL login \
	".* refused XOAUTH2 for $user: final reply 535 5.7.139 .*; fix: SMTP AUTH is disabled for this mailbox or tenant"
ms_login smtp "535-5.7.8 Username and Password not accepted.|535 5.7.8 https://support.google.com/mail/?p=BadCredentials"
check "535 5.7.8: FAIL login, the token refused" doc_line FAIL login \
	".*final reply 535 5.7.8 .*; fix: the server refused the token"
# The token Microsoft would accept: PASS, over both protocols.
(umask 077 && printf '%s\n' "$at" > "$MB_TMP/ms.accept")
ms_login imap
check "Microsoft IMAP accepts the token: PASS login" doc_line PASS login \
	"\[$user\] XOAUTH2 login as $user at imap://.* accepted: "
ms_login smtp
check "Microsoft SMTP accepts the token: PASS login" doc_line PASS login \
	"\[$user\] XOAUTH2 login as $user at smtp://.* accepted: 235 2.7.0"
check "the fake server saw the login name, 6 logins, 2 accepted" sh -c \
	"[ \$(grep -c 'login user=$user token=present' '$MB_TMP/ms.log') = 6 ] &&
	 [ \$(grep -c 'result=ok' '$MB_TMP/ms.log') = 2 ]"

# A server that echoes what it received: every form is masked.
b64t=$(printf '%s' "$at" | base64 -w 0)
b64x=$(printf 'user=%s\001auth=Bearer %s\001\001' "$user" "$at" | base64 -w 0)
b64o=$(printf 'n,a=%s,\001auth=Bearer %s\001\001' "$user" "$at" |
	base64 -w 0)
for s in "$b64t" "$b64x" "$b64o"; do remember_secret "$s"; done
rm -f "$MB_TMP/ms.accept"
ms_login smtp "535 5.7.8 got $at t=$b64t x=$b64x o=$b64o end"
check "an echoing server: FAIL login, its reply printed with the token masked" \
	doc_line FAIL login ".*final reply 535 5.7.8 got \*+ t=\*+ x=\*+ o=\*+ end"
check "... no form of the token printed" doc_no_secret

# Names that only look like this machine: STARTTLS is required, the
# fake server (no STARTTLS) gets no token.
if [ -n "${MB_DOCLOGIN_NS:-}" ] &&
    { cat /etc/hosts; echo "127.0.0.1 localhost.evil.test 127.evil.test evil.test"; } \
	> "$MB_TMP/hosts" && mount --bind "$MB_TMP/hosts" /etc/hosts; then
	for ms_host in localhost.evil.test 127.evil.test 127.0.0.1@evil.test; do
		: > "$MB_TMP/ms.log"
		ms_login smtp
		check "$ms_host is not loopback: FAIL login, no STARTTLS, token not sent" \
			doc_line FAIL login ".* offers no STARTTLS: the token was not sent"
		check "... the server saw no login" \
			sh -c "! grep -q 'login user' '$MB_TMP/ms.log'"
	done
	ms_host=localhost
	ms_login smtp
	check "localhost is loopback: the token goes without STARTTLS (FAIL login: refused)" \
		doc_line FAIL login ".* refused XOAUTH2 for $user: final reply 535 5.7.3"
	ms_host=
else
	for n in 1 2 3 4 5 6 7; do
		skip "no private mount namespace to map names in /etc/hosts"
	done
fi

# A proxy in the environment (libcurl tunnels IMAP and SMTP through
# ALL_PROXY with CONNECT) would carry the token unencrypted to another
# host, which connects to its own 127.0.0.1: a loopback URL is never
# proxied.
rm -f "$MB_TMP/proxy.port" "$MB_TMP/proxy.log"
timeout 60 "$MB_PYTHON" -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    open(sys.argv[2], "ab").write(c.recv(4096))
    c.close()
' "$MB_TMP/proxy.port" "$MB_TMP/proxy.log" &
proxy_pid=$!
wait_for 10 test -s "$MB_TMP/proxy.port"
: > "$MB_TMP/ms.log"
ALL_PROXY=http://127.0.0.1:$(cat "$MB_TMP/proxy.port")
export ALL_PROXY
ms_login smtp
unset ALL_PROXY
kill "$proxy_pid" 2> /dev/null
wait "$proxy_pid" 2> /dev/null
check "ALL_PROXY set: a loopback URL is not proxied" \
	sh -c "! grep -q 'CONNECT 127.0.0.1:$(cat "$MB_TMP/ms.port")' \
	'$MB_TMP/proxy.log' 2> /dev/null"
check "... the server on this machine saw the login" \
	grep -q "login user=$user" "$MB_TMP/ms.log"

doctor "$user" --socket "$SOCK" --login "pop3://127.0.0.1:$MB_POP3_PORT"
check "an unsupported scheme is a usage error (64)" test "$doc_rc" = 64
check "the token appears nowhere" doc_no_secret
done_testing
