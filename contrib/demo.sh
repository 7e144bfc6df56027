#!/bin/sh
# SPDX-License-Identifier: MIT
# contrib/demo.sh: see mailbearer work, on a fresh Debian 12, as root.
#
#  1. installs what is needed (contrib/install-deps.sh),
#  2. builds out of tree in _build/ (reused when it is there; a tree
#     configured in place is built in place; MAILBEARER_DEMO_BUILD=DIR
#     uses the finished build in DIR and builds nothing),
#  3. starts, on 127.0.0.1 only, a throw-away CA, the mock OAuth2 provider
#     of the tests and a private Dovecot that validates bearer tokens at
#     that provider (RFC 7662 introspection),
#  4. configures an account for the `mailbearer` token helper, authorizes
#     it with `mailbearer authorize` (the loopback flow; curl plays the
#     browser) and starts `mailbearer serve` on a private socket,
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
#  8. sends one message through a private Postfix (root only) whose
#     smtp(8) logs in to Dovecot's submission service through our plugin,
#  9. prints a summary, stops everything and removes its temporary files
#     (everything lives in one directory below ${TMPDIR:-/tmp}; nothing is
#     installed as a service, no policy-rc.d is left).
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

if [ -n "${MAILBEARER_DEMO_BUILD:-}" ]; then
	build=$(cd "$MAILBEARER_DEMO_BUILD" && pwd) || exit 1
	say "Using the build in $build"
	[ -x "$build/tokenhelper/mailbearer" ] &&
		[ -f "$build/plugin/.libs/libmailbearer.so" ] ||
		{ echo "no finished build in $build"; exit 1; }
else
	# A tree configured in place cannot also be configured out of tree
	# (configure refuses): build it where it is.
	if [ -f config.status ]; then
		build=$top
	else
		build=$top/_build
	fi
	say "Building in $build"
	if [ ! -x configure ]; then
		./autogen.sh > /dev/null 2>&1 ||
			{ echo "autogen.sh failed"; exit 1; }
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		(cd "$build" && "$top/configure" -q) ||
			{ echo "configure failed"; exit 1; }
	fi
	make -C "$build" -s -j2 > "$build/demo-make.log" 2>&1 &&
		make -C "$build" -s tests/fixtures/libsyslogshim.la \
		>> "$build/demo-make.log" 2>&1 ||
		{ tail -n 30 "$build/demo-make.log"; echo "build failed"; exit 1; }
fi
echo "built $build/plugin/.libs/libmailbearer.so"

top_srcdir=$top
top_builddir=$build
export top_srcdir top_builddir
# SASL_PATH and the rest are derived from $build by tests/lib/env.sh.
unset SASL_PATH SASL_PLUGINDIR
# The test library: a private temporary directory, bounded waits, and
# every server stopped on exit.
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/servers.sh"

say "Starting a CA, the mock OAuth2 provider and Dovecot on 127.0.0.1"
start_ca || { echo "could not make a CA"; exit 1; }
start_provider || { echo "the mock provider did not start"; exit 1; }
# Postfix (root only) relays through Dovecot's submission service, which
# hands the message to an smtp-sink writing it to a file.
with_postfix=no
if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/postfix ] && id postfix \
	> /dev/null 2>&1; then
	. "$top/tests/lib/postfix.sh"
	start_dump_sink && with_postfix=yes
fi
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
# summary WHAT RESULT: one line of the closing summary.
summary=$MB_TMP/summary
: > "$summary"
summarize() { printf '  %-34s %s\n' "$1" "$2" >> "$summary"; }
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
authorize_endpoint = $MB_PROVIDER_URL/authorize
token_endpoint = $MB_PROVIDER_URL/token
client_id = demo-client
scope = https://mail.google.com/
ca_file = $MB_CA
state_dir = $MB_TMP/state
allow = postfix
EOC
chmod 600 "$conf"
sed 's/^/    /' "$conf"
# The provider knows the account (its user would log in in the browser).
mockctl account "$user" --client-id demo-client --rotation rotate \
	> /dev/null || exit 1

say "mailbearer authorize $user (loopback flow; curl plays the browser)"
# No browser is started: without a display the helper prints the URL.
(
	unset DISPLAY WAYLAND_DISPLAY BROWSER
	timeout -s KILL 60 "$MB_HELPER" --config "$conf" authorize "$user" \
		< /dev/null > "$MB_TMP/az.out" 2> "$MB_TMP/az.err"
	echo $? > "$MB_TMP/az.rc"
) &
az_pid=$!
at_exit "kill -9 $az_pid"
if wait_for 10 grep -q '^https://' "$MB_TMP/az.out"; then
	url=$(grep -m1 '^https://' "$MB_TMP/az.out")
	sed 's/^/    /' "$MB_TMP/az.out"
	echo "$ curl -L '<that URL>'     (the user consents in the browser)"
	curl -s -L --max-time 20 --cacert "$MB_CA" -o "$MB_TMP/az.page" "$url"
	sed 's/^/    /' "$MB_TMP/az.page"
fi
wait_for 40 test -s "$MB_TMP/az.rc"
if [ "$(cat "$MB_TMP/az.rc" 2>/dev/null)" = 0 ]; then
	sed -n '/^authorized:/,$p' "$MB_TMP/az.out" | sed 's/^/    /'
	echo "=> authorized: the refresh token is in the helper's state"
	summarize "authorize (loopback flow)" ok
else
	echo "=> FAILED: mailbearer authorize:"
	sed 's/^/    /' "$MB_TMP/az.out" "$MB_TMP/az.err"
	summarize "authorize (loopback flow)" FAILED
	exit 1
fi

sock=$MB_TMP/run/socket
say "Starting mailbearer serve on $sock"
mkdir -p "$MB_TMP/run"
chmod 0755 "$MB_TMP/run"
MAILBEARER_SOCKET=$sock
export MAILBEARER_SOCKET
if [ "$with_postfix" = yes ]; then
	sockarg="$sock,mode=0660,group=postfix"
else
	sockarg=$sock
fi
"$MB_HELPER" --config "$conf" serve --socket "$sockarg" --foreground \
	2> "$MB_TMP/serve.log" &
serve_pid=$!
at_exit "kill $serve_pid"
wait_for 20 test -S "$sock" || { echo "serve did not start"; exit 1; }
"$MB_HELPER" --config "$conf" status "$user" | sed 's/^/    /'

say "imtest -m XOAUTH2, EMPTY password: the plugin asks the helper"
sasl_client "$MB_TMP/i1" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "" \
	"$imap_cmds"
show "$MB_TMP/i1"
expect "$MB_TMP/i1" '^Authenticated\.' "XOAUTH2 login through the helper succeeded"
grep -q '^Authenticated\.' "$MB_TMP/i1" && r=ok || r=FAILED
summarize "imtest XOAUTH2 through serve" "$r"

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
	summarize "expired, refused, login again" "ok, 1 refresh ($n0 -> $n1)"
else
	echo "=> FAILED: expected one refresh, the provider counted $n0 -> $n1"
	status=1
	summarize "expired, refused, login again" "FAILED ($n0 -> $n1)"
fi

if [ "$with_postfix" = yes ]; then
	say "One message through a private Postfix (smtp(8) asks serve)"
	pf_passwd "$user" "mailbearer:$user"
	PF_ENV="MAILBEARER_SOCKET=$sock" start_postfix ||
		{ echo "Postfix did not start"; exit 1; }
	echo "postfix -c $MB_PF_CONF: smtpd on 127.0.0.1:$MB_PF_PORT," \
		"relayhost [127.0.0.1]:$MB_SUBMISSION_PORT, password" \
		"\"mailbearer:$user\""
	if pf_send demo1 "$user" bob@example.com &&
		pf_wait_delivered demo1 30; then
		pf_log_of demo1 | grep -E 'status=sent' | sed 's/^/    /'
		echo "=> delivered through the relay: Postfix's smtp(8) logged in" \
			"with our plugin"
		summarize "Postfix relay through serve" "ok, delivered"
	else
		echo "=> FAILED: the message was not delivered"
		mb_diag_file "$MB_PF_LOG" | sed 's/^# /    /'
		summarize "Postfix relay through serve" FAILED
		status=1
	fi
	stop_postfix
else
	say "Postfix step skipped (needs root and postfix installed)"
	summarize "Postfix relay through serve" "skipped (needs root)"
fi

say "Password mode: the token itself as the password (mbsync PassCmd)"
echo "$ mailbearer token $user | imtest -m XOAUTH2 ..."
token=$("$MB_HELPER" --config "$conf" token "$user") || status=1
sasl_client "$MB_TMP/i4" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "$token" \
	"$imap_cmds"
unset token
expect "$MB_TMP/i4" '^Authenticated\.' "login with the token as password succeeded"
grep -q '^Authenticated\.' "$MB_TMP/i4" && r=ok || r=FAILED
summarize "password mode (mailbearer token)" "$r"

say "What an administrator sees when the helper is not running"
kill "$serve_pid"
wait_for 20 sh -c "! kill -0 $serve_pid"
sasl_client "$MB_TMP/i5" imtest "$MB_IMAP_PORT" XOAUTH2 "$user" "" \
	'a2 LOGOUT'
reason=$(sed -n 's/^<[0-9]*> <errdetail> \(.*\)/\1/p' "$MB_TMP/i5.syslog" |
	tail -n 1)
echo "   $reason"
case $reason in
*"mailbearer serve is not running"*)
	summarize "helper down: the plugin says so" ok ;;
*) echo "=> FAILED: expected 'mailbearer serve is not running'"; status=1
	summarize "helper down: the plugin says so" FAILED ;;
esac

say "Summary"
cat "$summary"
echo "  refresh requests at the provider:  $(refreshes)"
echo "Stopping Dovecot, the provider and the sink; removing $MB_TMP"
if [ "$status" = 0 ]; then
	echo "demo finished: every step behaved as described"
else
	echo "demo finished with failures (see FAILED above)"
fi
exit "$status"
