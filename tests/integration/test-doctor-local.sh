#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer doctor` on each broken local set-up it claims to detect, one
# FAIL line each, exit 1: the plugin missing from SASL_PATH, a plugin that
# outranks ours scanned first, a state file or directory open to others,
# a client secret in a config open to others, an account never
# authorized, serve down, serve refusing this uid, the token endpoint
# unreachable, a CA that did not sign the endpoint, a refresh token the
# provider revoked (token, then state).
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/doctor.sh"
token_setup

user=alice@example.com
doc_account "$user"
ok $? "import"
check "serve started" doc_serve
doctor "$user" --socket "$SOCK"
ok $? "the starting point passes"

# --- libsasl2 ---------------------------------------------------------------
SASL_PATH=$MB_SYSPLUGINS doctor "$user" --socket "$SOCK"
check "plugin missing from SASL_PATH: exit 1" test "$doc_rc" = 1
check "... FAIL sasl-plugin XOAUTH2, with the fix" doc_line FAIL sasl-plugin \
	"libsasl2 \(SASL_PATH=$MB_SYSPLUGINS\) loads no XOAUTH2 from libmailbearer\.so; fix: install libmailbearer\.so into "
check "... FAIL sasl-plugin OAUTHBEARER" doc_line FAIL sasl-plugin \
	".* loads no OAUTHBEARER"

shadow=$top_builddir/tests/fixtures/.libs/libdocshadow.so
mkdir -p "$MB_TMP/shadow" && ln -s "$shadow" "$MB_TMP/shadow/"
SASL_PATH=$MB_TMP/shadow:$SASL_PATH doctor "$user" --socket "$SOCK"
check "a plugin outranking ours for XOAUTH2: exit 1" test "$doc_rc" = 1
check "... FAIL sasl-shadow names it and its file" doc_line FAIL sasl-shadow \
	"XOAUTH2: libsasl2 chooses plugin docshadow \($MB_TMP/shadow/libdocshadow\.so\) before ours; fix: remove "
check "... ours is still listed" doc_line PASS sasl-plugin ".* lists XOAUTH2"
check "... OAUTHBEARER is not shadowed" doc_line PASS sasl-shadow "OAUTHBEARER"

# --- modes ------------------------------------------------------------------
st=$MB_TMP/state/$user.json
chmod 644 "$st"
doctor "$user" --socket "$SOCK"
check "state file 0644: exit 1" test "$doc_rc" = 1
check "... FAIL modes, chmod 600" doc_line FAIL modes \
	"state file $st is open to group or others \(mode 0644\); fix: chmod 600 $st"
chmod 600 "$st"
chmod 755 "$MB_TMP/state"
doctor "$user" --socket "$SOCK"
check "state directory 0755: FAIL modes, chmod 700" doc_line FAIL modes \
	"state directory $MB_TMP/state is open to group or others \(mode 0755\); fix: chmod 700 $MB_TMP/state"
chmod 700 "$MB_TMP/state"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$st"
	doctor "$user" --socket "$SOCK"
	check "a state file of another user: FAIL modes, chown to the directory's" \
		doc_line FAIL modes \
		"state file $st belongs to $(id -nu 65534), not to root, who owns its directory \(serve must run as that user\); fix: chown root $st"
	chown 0 "$st"
else
	skip "needs root to give a file to another user"
fi

conf=$MB_CONF
MB_CONF=$MB_TMP/secret.conf
sed "s/^client_id = cid/client_id = cid\nclient_secret = not-a-real-secret/" \
	"$conf" > "$MB_CONF"
chmod 644 "$MB_CONF"
doctor "$user" --socket "$SOCK"
check "client_secret in a 0644 config: FAIL config, chmod 600" \
	doc_line FAIL config ".*mode 0644.*chmod 600 $MB_CONF"
lacks "... the secret is not printed" "$MB_TMP/doc.out" not-a-real-secret
MB_CONF=$conf

# --- state ------------------------------------------------------------------
mb_conf_account "$MB_CONF" bob@example.com
doctor bob@example.com --socket "$SOCK"
check "never authorized: FAIL state" doc_line FAIL state \
	"\[bob@example.com\] no state file in .*; fix: run \`mailbearer authorize bob@example.com\`"

# --- the socket ---------------------------------------------------------------
doctor "$user" --socket "$MB_TMP/down.sock"
check "serve down: FAIL socket, how to start it" doc_line FAIL socket \
	"\[$user\] no answer on $MB_TMP/down.sock: .*; fix: start \`mailbearer serve\`"
check "... exit 1" test "$doc_rc" = 1

# doctor_as_nobody: doctor of $user on $SOCK as uid 65534, no groups.
doctor_as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$MB_HELPER" --config "$MB_TMP/pub.conf" doctor "$user" \
		--socket "$SOCK" > "$MB_TMP/doc.out" 2> "$MB_TMP/doc.err"
	diag_stdin < "$MB_TMP/doc.out"
}
# Another uid (nobody) asks this root-run serve: serve itself refuses it.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 0711 "$MB_TMP"
	cp "$MB_CA" "$MB_TMP/pubca.pem" && chmod 644 "$MB_TMP/pubca.pem"
	sed "s|^ca_file = .*|ca_file = $MB_TMP/pubca.pem|" "$MB_CONF" \
		> "$MB_TMP/pub.conf" && chmod 644 "$MB_TMP/pub.conf"
	doctor_as_nobody
	check "serve refusing this uid: FAIL socket, the allow fix" \
		doc_line FAIL socket \
		"\[$user\] serve on $SOCK answers uid 65534: denied .*; fix: add uid 65534 to \`allow =\` in \[$user\]"
	# The socket's group, not serve, keeps this uid out (the Postfix
	# chroot's socket: group postfix, mode 0660): not "start serve".
	chgrp daemon "$SOCK" && chmod 0660 "$SOCK"
	doctor_as_nobody
	check "the socket's group keeps this uid out: FAIL socket, names group and mode" \
		doc_line FAIL socket \
		"\[$user\] uid 65534 may not connect to $SOCK: .*\(the socket $SOCK is uid 0, group daemon, mode 0660\); serve was not asked; fix: check as the group's user, who connects: runuser -u daemon -- mailbearer doctor --socket $SOCK"
	lacks "... not \"start serve\"" "$MB_TMP/doc.out" "start \`mailbearer serve"
	chgrp 0 "$SOCK" && chmod 0666 "$SOCK"
	# The state is nobody's (its serve must run as nobody), but the
	# serve on the socket is root's: the cause is serve's user.
	mkdir -m 700 "$MB_TMP/nb-state" && chown 65534 "$MB_TMP/nb-state"
	sed "s|^state_dir = .*|state_dir = $MB_TMP/nb-state|" \
		"$MB_TMP/pub.conf" > "$MB_TMP/nb.conf" &&
		chmod 644 "$MB_TMP/nb.conf"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$MB_HELPER" --config "$MB_TMP/nb.conf" doctor "$user" \
		--socket "$SOCK" > "$MB_TMP/doc.out" 2> "$MB_TMP/doc.err"
	check "serve run by another user than the state's: that is the cause" \
		doc_line FAIL socket \
		"\[$user\] serve on $SOCK answers uid 65534: denied .*; fix: serve runs as another user than $(id -nu 65534), who owns the state $MB_TMP/nb-state: run it as $(id -nu 65534) \(mailbearer.service, or serve --user $(id -nu 65534) as root\)"
else
	skip "needs root and setpriv to ask as another uid"
	skip "needs root and setpriv to ask as another uid"
	skip "needs root and setpriv to ask as another uid"
	skip "needs root and setpriv to ask as another uid"
fi

# serve answers an error of its own (ERR internal): a FAIL, never a PASS
"$MB_PYTHON" - "$MB_TMP/err.sock" <<'EOP' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(4)
s.settimeout(60)
for _ in range(4):
    try:
        c, _a = s.accept()
    except OSError:
        break
    c.settimeout(10)
    try:
        c.recv(4096)
        c.sendall(b"MAILBEARER1 ERR internal the answer could not be formatted\n")
    except OSError:
        pass
    c.close()
EOP
esrv=$!
at_exit "kill $esrv 2>/dev/null"
wait_for 20 test -S "$MB_TMP/err.sock"
doctor "$user" --socket "$MB_TMP/err.sock"
check "ERR internal: FAIL socket with the log fix" doc_line FAIL socket \
	"\[$user\] serve on $MB_TMP/err.sock answers uid [0-9]+: internal the answer could not be formatted; fix: serve failed to answer: its log says why"
lacks "... no PASS socket" "$MB_TMP/doc.out" "^PASS socket"
check "... exit 1" test "$doc_rc" = 1
kill "$esrv" 2>/dev/null

# --- the token endpoint --------------------------------------------------------
port=$(free_port)
MB_PROVIDER_URL=https://127.0.0.1:$port mb_conf_account "$MB_CONF" carol@example.com
printf 'some-refresh-token\n' | mb import carol@example.com
doctor carol@example.com --socket "$SOCK"
check "endpoint unreachable: FAIL endpoint" doc_line FAIL endpoint \
	"\[carol@example.com\] https://127.0.0.1:$port/token: .*; fix: check the URL, the network path"
check "... and FAIL token" doc_line FAIL token "\[carol@example.com\]"

sh "$top_srcdir/tests/fixtures/ca.sh" "$MB_TMP/ca2" 2> /dev/null
MB_CA=$MB_TMP/ca2/ca.pem mb_conf_account "$MB_CONF" dave@example.com
doc_rt=$(mockctl account dave@example.com --client-id cid)
remember_secret "$doc_rt"
printf '%s\n' "$doc_rt" | mb import dave@example.com
doctor dave@example.com --socket "$SOCK"
check "a CA that did not sign the endpoint: FAIL endpoint, the ca_file fix" \
	doc_line FAIL endpoint \
	"\[dave@example.com\] $MB_PROVIDER_URL/token: .*\(CA: $MB_TMP/ca2/ca.pem\); fix: set ca_file to the CA"
check "... and FAIL token" doc_line FAIL token "\[dave@example.com\]"

# --- a revoked refresh token ---------------------------------------------------
mockctl revoke "$user" > /dev/null
time_left "$user" -100
doctor "$user" --socket "$SOCK"
check "revoked grant: FAIL token with the provider's reason" \
	doc_line FAIL token "\[$user\] .*"
doctor "$user" --socket "$SOCK"
check "... then FAIL state: needs authorize" doc_line FAIL state \
	"\[$user\] needs attention: .*; fix: run \`mailbearer authorize $user\`"
check "no secret printed" doc_no_secret
done_testing
