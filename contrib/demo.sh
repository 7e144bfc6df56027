#!/bin/sh
# contrib/demo.sh: see mailbearer work, on a fresh Debian 12, as root.
#
#  1. installs what is needed (contrib/install-deps.sh),
#  2. builds out of tree in _build/ (reused when it is there),
#  3. starts, on 127.0.0.1 only, a throw-away CA, the mock OAuth2 provider
#     of the tests and a private Dovecot that validates bearer tokens at
#     that provider (RFC 7662 introspection),
#  4. configures an account for the `mailbearer` token helper, imports its
#     refresh token (on stdin, as an administrator would) and starts
#     `mailbearer serve` on a private socket,
#  5. logs in with Cyrus' imtest (IMAP) and smtptest (submission) through
#     our plugin with an EMPTY password: the plugin asks the helper for
#     the account's access token; prints the transcripts,
#  6. expires the access token at the provider: the next login is refused
#     with the reason our plugin decoded from the server's challenge, the
#     plugin tells the helper, and the login after that succeeds with a
#     token refreshed by exactly one request to the provider,
#  7. shows password mode (the token itself as the password, as from
#     mbsync's PassCmd running `mailbearer token`), and what an
#     administrator sees when the helper is not running,
#  8. stops everything and removes its temporary files.
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
		-e 's/\(AUTH [A-Z0-9]* [A-Za-z0-9+/]\{16\}\)[A-Za-z0-9+/=]*/\1.../' \
		-e 's/^\(C: [A-Za-z0-9+/]\{16\}\)[A-Za-z0-9+/=]\{20,\}/\1.../' \
		"$1" | sed 's/^/    /'
}
# expect FILE ERE WHAT: report whether the transcript FILE shows WHAT.
status=0
expect() {
	if grep -Eq -- "$2" "$1"; then
		echo "=> $3"
	else
		echo "=> FAILED: expected $3"; status=1
	fi
}
refreshes() { mockctl count "users.$user.refresh"; }
imap_cmds='a1 SELECT INBOX
a2 LOGOUT'

say "Configuring the account for the token helper"
conf=$MB_TMP/mailbearer.conf
cat > "$conf" <<EOC
# What an administrator writes (mailbearer.conf(5)); the endpoints point
# at the mock provider instead of Google or Microsoft.
[$user]
provider = generic
token_endpoint = $MB_PROVIDER_URL/token
client_id = demo-client
ca_file = $MB_CA
state_dir = $MB_TMP/state
EOC
chmod 600 "$conf"
sed 's/^/    /' "$conf"
# The provider knows the account; its refresh token goes to the helper on
# stdin, never in argv.
mockctl account "$user" --client-id demo-client --rotation rotate \
	> "$MB_TMP/rt" || exit 1
echo "$ mailbearer import $user < refresh-token"
"$MB_HELPER" --config "$conf" import "$user" < "$MB_TMP/rt" || status=1
rm -f "$MB_TMP/rt"

say "Starting mailbearer serve on $MB_TMP/serve.sock"
sock=$MB_TMP/serve.sock
MAILBEARER_SOCKET=$sock
export MAILBEARER_SOCKET
"$MB_HELPER" --config "$conf" serve --socket "$sock" --foreground \
	2> "$MB_TMP/serve.log" &
serve_pid=$!
at_exit "kill $serve_pid"
wait_for 20 test -S "$sock" || { echo "serve did not start"; exit 1; }
wait_for 20 test "$(refreshes)" -ge 1 ||
	{ echo "serve did not get a first token"; status=1; }
"$MB_HELPER" --config "$conf" status "$user" | sed 's/^/    /'

say "imtest -m XOAUTH2, EMPTY password: the plugin asks the helper"
sasl_client "$MB_TMP/i1" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "" \
	"$imap_cmds"
show "$MB_TMP/i1"
expect "$MB_TMP/i1" '^Authenticated\.' "XOAUTH2 login through the helper succeeded"

say "smtptest -m OAUTHBEARER, password \"mailbearer:$user\""
sasl_client "$MB_TMP/s1" smtptest "$MB_SUBMISSION_PORT" OAUTHBEARER \
	"$user" "mailbearer:$user" 'QUIT'
show "$MB_TMP/s1"
expect "$MB_TMP/s1" '^S: 235 ' "OAUTHBEARER submission login succeeded"
n0=$(refreshes)
echo "=> requests to the provider's token endpoint so far: $n0" \
	"(tokens are served from the helper's memory)"

say "The provider expires the access token; logging in again"
mockctl expire "$user" --what access > /dev/null
sasl_client "$MB_TMP/i2" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "" \
	'a2 LOGOUT'
show "$MB_TMP/i2"
challenge=$(sed -n 's/^S: + \(eyJ[A-Za-z0-9+/=]*\).*/\1/p' "$MB_TMP/i2" |
	base64 -d 2>/dev/null)
echo "=> the server's challenge decodes to: $challenge"
expect "$MB_TMP/i2" 'A01 NO \[AUTHENTICATIONFAILED\]' \
	"refused after a clean exchange (JSON challenge, empty answer, tagged NO)"
reason=$(sed -n 's/^<[0-9]*> <errdetail> \(XOAUTH2: .*\)/\1/p' \
	"$MB_TMP/i2.syslog" | tail -n 1)
if [ -n "$reason" ]; then
	echo "=> the reason our plugin gives the application and syslog:"
	echo "   $reason"
else
	echo "=> FAILED: no decoded reason recorded"; status=1
fi
wait_for 10 grep -q 'rejected' "$MB_TMP/serve.log" &&
	echo "=> mailbearer serve was told the token was rejected:" &&
	grep 'rejected' "$MB_TMP/serve.log" | tail -n 1 | sed 's/^/   /'

say "Logging in again: the helper refreshes first"
sasl_client "$MB_TMP/i3" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "" \
	"$imap_cmds"
show "$MB_TMP/i3"
expect "$MB_TMP/i3" '^Authenticated\.' "login with the refreshed token succeeded"
n1=$(refreshes)
if [ "$n1" = $((n0 + 1)) ]; then
	echo "=> exactly one refresh request for it ($n0 -> $n1)"
else
	echo "=> FAILED: expected one refresh, the provider counted $n0 -> $n1"
	status=1
fi

say "Password mode: the token itself as the password (mbsync PassCmd)"
echo "$ mailbearer token $user | imtest -m XOAUTH2 ..."
token=$("$MB_HELPER" --config "$conf" token "$user") || status=1
sasl_client "$MB_TMP/i4" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "$token" \
	"$imap_cmds"
unset token
expect "$MB_TMP/i4" '^Authenticated\.' "login with the token as password succeeded"

say "What an administrator sees when the helper is not running"
kill "$serve_pid"
wait_for 20 sh -c "! kill -0 $serve_pid"
sasl_client "$MB_TMP/i5" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "" \
	'a2 LOGOUT'
reason=$(sed -n 's/^<[0-9]*> <errdetail> \(.*\)/\1/p' "$MB_TMP/i5.syslog" |
	tail -n 1)
echo "   $reason"
case $reason in
*"mailbearer serve is not running"*) ;;
*) echo "=> FAILED: expected 'mailbearer serve is not running'"; status=1 ;;
esac

say "Stopping Dovecot and the provider"
if [ "$status" = 0 ]; then
	echo "demo finished: every step behaved as described"
else
	echo "demo finished with failures (see FAILED above)"
fi
exit "$status"
