#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer doctor` on a good set-up: the plugin in SASL_PATH, a valid
# config, an imported account, serve running, the mock provider, a
# private Postfix configuration that suits a bearer token: exit 0, every
# line PASS or SKIP, each check present, no secret printed.  Also with
# Debian's kdexoauth2 in a directory scanned first: ours is still chosen.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/doctor.sh"
token_setup
need postconf postmap

user=alice@example.com
doc_account "$user"
ok $? "import"
check "serve started" doc_serve
doc_postfix "$MB_TMP/pf"

doctor "$user" --socket "$SOCK" --postfix-config "$MB_TMP/pf"
ok $? "doctor exits 0 on a good set-up"
check "every line is PASS or SKIP (and the summary)" \
	sh -c "! grep -Ev '^(PASS|SKIP) [a-z-]+: |^[0-9]+ passed, 0 failed' '$MB_TMP/doc.out'"
for name in sasl-plugin sasl-shadow config modes state socket endpoint \
	token postfix-password postfix-account postfix-mechs postfix-tls \
	postfix-chroot; do
	check "PASS $name" doc_line PASS "$name"
done
check "the plugin is found in the build tree through SASL_PATH" \
	doc_line PASS sasl-plugin "libsasl2 \(SASL_PATH=.*\) lists XOAUTH2 from .*/plugin/\.libs/libmailbearer\.so"
check "OAUTHBEARER too" doc_line PASS sasl-plugin ".* lists OAUTHBEARER from"
remember_secret "$(st_get "$user" access_token)"
check "no token or refresh token in the output" doc_no_secret

# Without the account operand: the only account is checked.
doctor --socket "$SOCK" --postfix-config "$MB_TMP/pf"
ok $? "doctor without ACCOUNT, one account: exit 0"
check "... its token checked" doc_line PASS token "\[$user\]"

# Debian's kdexoauth2 (or any plugin with its flags) scanned first.
kde=$(pkg-config --variable=libdir libsasl2 2>/dev/null)/sasl2/libkdexoauth2.so
if [ -e "$kde" ]; then
	mkdir -p "$MB_TMP/kde" && ln -s "$kde" "$MB_TMP/kde/"
	SASL_PATH="$MB_TMP/kde:$SASL_PATH" doctor "$user" --socket "$SOCK" \
		--postfix-config "$MB_TMP/pf"
	ok $? "kdexoauth2 scanned first: still exit 0"
	check "... ours is chosen (it ranks below ours: NODICTIONARY)" \
		doc_line PASS sasl-shadow \
		"XOAUTH2: ours is the one libsasl2 chooses \(also provided by $MB_TMP/kde/libkdexoauth2.so, ranked below\)"
else
	skip "kdexoauth2 not installed"
	skip "kdexoauth2 not installed"
fi
check "no secret anywhere" doc_no_secret
done_testing
