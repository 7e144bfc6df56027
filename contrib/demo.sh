#!/bin/sh
# contrib/demo.sh: see mailbearer work, on a fresh Debian 12, as root.
#
#  1. installs what is needed (contrib/install-deps.sh),
#  2. builds out of tree in _build/ (reused when it is there),
#  3. starts, on 127.0.0.1 only, a throw-away CA, the mock OAuth2 provider
#     of the tests and a private Dovecot that validates bearer tokens at
#     that provider (RFC 7662 introspection),
#  4. logs in with Cyrus' imtest through our plugin, XOAUTH2 then
#     OAUTHBEARER, with a token the provider issued, and prints the
#     transcript,
#  5. revokes the token and shows the login refused, with the reason our
#     plugin decoded from the server's challenge,
#  6. stops everything and removes its temporary files.
#
# Exit status 0 when all of that happened as described.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi

say "Installing the Debian packages mailbearer needs"
sh contrib/install-deps.sh || exit 1

say "Building in _build/"
if [ ! -x configure ]; then
	./autogen.sh > /dev/null 2>&1 || { echo "autogen.sh failed"; exit 1; }
fi
mkdir -p _build
if [ ! -f _build/Makefile ]; then
	(cd _build && ../configure -q) || { echo "configure failed"; exit 1; }
fi
make -C _build -s -j2 > _build/demo-make.log 2>&1 &&
	make -C _build -s tests/libsyslogshim.la >> _build/demo-make.log 2>&1 ||
	{ tail -n 30 _build/demo-make.log; echo "build failed"; exit 1; }
echo "built $top/_build/plugin/.libs/libmailbearer.so"

top_srcdir=$top
top_builddir=$top/_build
export top_srcdir top_builddir
# The test library: a private temporary directory, bounded waits, and
# every server stopped on exit.
. "$top/tests/lib.sh"
. "$top/tests/lib-servers.sh"

say "Starting a CA, the mock OAuth2 provider and Dovecot on 127.0.0.1"
start_ca || { echo "could not make a CA"; exit 1; }
start_provider || { echo "the mock provider did not start"; exit 1; }
start_dovecot || { echo "Dovecot did not start"; exit 1; }
echo "provider $MB_PROVIDER_URL, Dovecot IMAP on 127.0.0.1:$MB_IMAP_PORT"
echo "SASL_PATH=$SASL_PATH"
echo "(our plugin plus the system's plugins minus other XOAUTH2 providers)"

user=alice@example.com
# show FILE: the client's transcript, with the base64 blob that carries
# the token shortened.
show() {
	sed -e 's/^OAuth2 access token.*: C: /C: /' \
		-e 's/\(AUTHENTICATE [A-Z0-9]* [A-Za-z0-9+/]\{16\}\)[A-Za-z0-9+/=]*/\1.../' \
		-e 's/^\(C: [A-Za-z0-9+/]\{16\}\)[A-Za-z0-9+/=]\{20,\}/\1.../' \
		"$1" | sed 's/^/    /'
}
status=0
token=$(mockctl issue "$user" --ttl 3600) || exit 1
echo "the provider issued an access token for $user" \
	"(${#token} characters, valid 1 hour)"

for mech in XOAUTH2 OAUTHBEARER; do
	say "imtest -m $mech -a $user (the token typed at the password prompt)"
	sasl_client "$MB_TMP/ok-$mech" imtest "$MB_IMAP_PORT" "$mech" "$user" \
		"$token" 'a1 SELECT INBOX
a2 LOGOUT'
	show "$MB_TMP/ok-$mech"
	if grep -q '^Authenticated\.' "$MB_TMP/ok-$mech"; then
		echo "=> $mech login succeeded"
	else
		echo "=> $mech login FAILED"; status=1
	fi
done

say "Revoking the token at the provider, then logging in again"
mockctl revoke "$user" --what access > /dev/null
sasl_client "$MB_TMP/no" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "$token" \
	'a2 LOGOUT'
show "$MB_TMP/no"
challenge=$(sed -n 's/^S: + \(eyJ[A-Za-z0-9+/=]*\).*/\1/p' "$MB_TMP/no" |
	base64 -d 2>/dev/null)
echo "=> the server's challenge decodes to: $challenge"
if grep -q 'A01 NO \[AUTHENTICATIONFAILED\]' "$MB_TMP/no"; then
	echo "=> refused by the server after a clean exchange (the JSON" \
		"challenge, our empty answer, the tagged NO)"
else
	echo "=> expected a tagged NO"; status=1
fi
reason=$(sed -n 's/^<[0-9]*> <errdetail> \(XOAUTH2: .*\)/\1/p' \
	"$MB_TMP/no.syslog" | tail -n 1)
if [ -n "$reason" ]; then
	echo "=> the reason our plugin gives the application" \
		"(sasl_errdetail):"
	echo "   $reason"
else
	echo "=> no decoded reason recorded"; status=1
fi

say "Stopping Dovecot and the provider"
exit "$status"
