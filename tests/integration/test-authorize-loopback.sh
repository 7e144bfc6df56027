#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer authorize ACCOUNT` (loopback flow) against the mock provider;
# curl plays the browser.  Success for Google and Microsoft styles (the
# URL's parameters, the ssh -L line, the listener on 127.0.0.1 and ::1
# only (a Microsoft redirect to localhost delivered on ::1), the summary,
# then `mailbearer token`); a redirect with a wrong or missing state is
# ignored and the right one still completes the run, a flood of them
# does not end it; a code bound to another verifier and a denial store
# nothing;
# the timeout and SIGTERM leave no listener and no state; the client
# advice.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/authorize.sh"
token_setup
need curl

g=gmail@example.com
mockctl account "$g" --client-id cid > /dev/null
az_conf "$g" google

# --- success, Google style --------------------------------------------
az_start g1 "$g"
url=$(az_url g1)
ok $? "the authorization URL is printed alone on its line"
port=$(az_port g1)
check "no display: the ssh -L PORT:127.0.0.1:PORT line" test -n "$port"
for p in response_type=code client_id=cid code_challenge_method=S256 \
	"login_hint=gmail%40example.com" access_type=offline prompt=consent \
	"redirect_uri=http%3A%2F%2F127.0.0.1%3A$port%2F" \
	"scope=https%3A%2F%2Fmail.google.com%2F%20openid%20email&" "&nonce="; do
	case $url in
	*"$p"*) ok 0 "URL has $p" ;;
	*) ok 1 "URL has $p"; diag "$url" ;;
	esac
done
case $url in *code_challenge=???????????????????????????????????????????\&*)
	ok 0 "URL has a 43-character S256 challenge" ;;
*) ok 1 "URL has a 43-character S256 challenge" ;; esac
check "listening while it waits" az_listening "$port"
hexport=$(printf '%04X' "$port")
check "... on 127.0.0.1 and ::1 only" test "$(az_listen_addr "$port" |
	sort | tr '\n' ' ')" = \
	"00000000000000000000000001000000:$hexport 0100007F:$hexport "
az_browse "$url" "$MB_TMP/g1.page"
contains "the browser gets a short plain page" "$MB_TMP/g1.page" \
	"is authorized\. You can close this window"
check "exit 0" test "$(az_rc g1)" = 0
contains "says who is authorized" "$MB_TMP/g1.out" "^authorized: $g "
contains "says the scopes granted" "$MB_TMP/g1.out" \
	'^scopes: https://mail.google.com/$'
contains "says when the access token expires (ISO 8601)" "$MB_TMP/g1.out" \
	'^access token expires: 20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}Z$'
if az_listening "$port"; then ok 1 "no listener left"; else
	ok 0 "no listener left"; fi
check "the refresh token is stored" test -n "$(st_get "$g" refresh_token)"
check "the code was redeemed once" \
	test "$(mockctl count "users.$g.code_ok")" = 1
remember_secret "$(st_get "$g" refresh_token)"
remember_secret "$(st_get "$g" access_token)"
mb token "$g"
ok $? "mailbearer token works afterwards"
check "... with the authorized access token" \
	test "$(cat "$MB_TMP/out")" = "$(st_get "$g" access_token)"
check "... without a refresh" test "$(mockctl count "users.$g.refresh")" = 0

# --- a browser, when one is available ($BROWSER) ---------------------------
# The fake browser records the address it was given and follows it.
cat > "$MB_TMP/browser" <<EOB
#!/bin/sh
printf '%s\n' "\$1" > "$MB_TMP/browser.arg"
exec curl -s -L --max-time 20 --cacert "$MB_CA" -o "$MB_TMP/browser.page" "\$1"
EOB
chmod 755 "$MB_TMP/browser"
BROWSER=$MB_TMP/browser
export BROWSER
az_start browser "$g"
unset BROWSER
check "\$BROWSER: started with the address, and the flow completes" \
	test "$(az_rc browser)" = 0
check "... it got exactly the printed address" \
	test "$(cat "$MB_TMP/browser.arg")" = "$(az_url browser)"
contains "... the output says it was started" "$MB_TMP/browser.out" \
	"^\(started .*/browser;"
lacks "... and prints no ssh -L line" "$MB_TMP/browser.out" "ssh -L"

# --- OpenID Connect: who signed in is checked, by default ----------------
contains "Google: the provider's id_token confirms who signed in" \
	"$MB_TMP/g1.out" "^authorized: $g \(account $g; confirmed by the provider's id_token"
o=oidc@example.com
x=someone-else@example.com
mockctl account "$o" --client-id cid > /dev/null
mockctl account "$x" --client-id cid > /dev/null
az_conf "$o" google
az_start oidc "$o"
az_browse "$(az_url oidc)" "$MB_TMP/oidc.page"
check "the default scope: exit 0" test "$(az_rc oidc)" = 0
rt_before=$(st_get "$o" refresh_token)
remember_secret "$rt_before"
# Login CSRF: whoever reads the authorization URL signs in as someone
# else and the redirect delivers that grant to this run's listener.
mockctl authorize-mode "as:$x" > /dev/null
az_start as-other "$o"
az_browse "$(az_url as-other)" "$MB_TMP/as-other.page"
check "someone else signed in: exit 77" test "$(az_rc as-other)" = 77
contains "... says who signed in and what to do" "$MB_TMP/as-other.err" \
	"says $x signed in, but the account's user is $o.*nothing was stored"
check "... nothing stored (the previous grant is kept)" \
	test "$(st_get "$o" refresh_token)" = "$rt_before"
lacks "... the refused grant's tokens are not shown" "$MB_TMP/as-other.out" \
	"^authorized"
# An id_token that is not this authorization's, or not usable.
idt() {	# KIND STATUS WHY-PATTERN
	mockctl authorize-mode "idt:$1" > /dev/null
	az_start "idt-$1" "$o"
	az_browse "$(az_url "idt-$1")" "$MB_TMP/idt-$1.page"
	check "id_token $1: exit $2" test "$(az_rc "idt-$1")" = "$2"
	contains "id_token $1: says why" "$MB_TMP/idt-$1.err" \
		"$3.*nothing was stored"
	check "id_token $1: nothing stored" \
		test "$(st_get "$o" refresh_token)" = "$rt_before"
}
idt wrong_nonce 77 "nonce is not this authorization's"
idt no_nonce 77 "nonce is not this authorization's"
idt wrong_aud 77 "issued to another client .its aud is not client_id cid"
idt expired 77 "the id_token has expired"
idt wrong_iss 77 'issuer is "https://evil.example", not https://accounts.google.com'
idt unverified 77 "email $o is not verified"
idt no_email 77 "the id_token names nobody"
idt none 78 "carries no id_token although openid was asked for"
contains "... says the setting for a provider without OpenID Connect" \
	"$MB_TMP/idt-none.err" "set check_identity = no in \[$o\]"
# check_identity = no: no openid asked for, nothing checked.
n=nocheck@example.com
mockctl account "$n" --client-id cid > /dev/null
az_conf "$n" google "check_identity = no"
az_start nocheck "$n"
url=$(az_url nocheck)
case $url in *openid*|*nonce=*) ok 1 "check_identity = no: no openid, no nonce" ;;
*) ok 0 "check_identity = no: no openid, no nonce" ;; esac
az_browse "$url" "$MB_TMP/nocheck.page"
check "... exit 0" test "$(az_rc nocheck)" = 0
contains "... says who signed in is not checked" "$MB_TMP/nocheck.out" \
	"^authorized: $n \(account $n; who signed in is not checked"
# openid alone in scope: email, which names the user, is asked for too.
n=nomail@example.com
mockctl account "$n" --client-id cid > /dev/null
az_conf "$n" google "scope = https://mail.google.com/ openid"
az_start nomail "$n"
url=$(az_url nomail)
case $url in *"scope=https%3A%2F%2Fmail.google.com%2F%20openid%20email&"*)
	ok 0 "openid alone: email added to the request" ;;
*) ok 1 "openid alone: email added to the request"; diag "$url" ;; esac
az_browse "$url" "$MB_TMP/nomail.page"
check "... exit 0" test "$(az_rc nomail)" = 0
contains "... confirmed by the id_token" "$MB_TMP/nomail.out" \
	"^authorized: $n \(account $n; confirmed by the provider's id_token"

# --- refusals: nothing stored ------------------------------------------
refused() {	# NAME ACCOUNT WHY-PATTERN [URL-REWRITE]
	az_start "$1" "$2"
	u=$(az_url "$1")
	p=$(az_port "$1")
	[ -n "${4:-}" ] && u=$(printf '%s' "$u" | sed "$4")
	az_browse "$u" "$MB_TMP/$1.page"
	check "$1: exit 77" test "$(az_rc "$1")" = 77
	contains "$1: says why" "$MB_TMP/$1.err" "$3"
	contains "$1: the page says it was refused" "$MB_TMP/$1.page" \
		"refused|did not complete"
	check "$1: nothing stored" no_state "$2"
	check "$1: the port was printed" test -n "$p"
	if az_listening "$p"; then ok 1 "$1: listener closed"; else
		ok 0 "$1: listener closed"; fi
}
b=bad@example.com
mockctl account "$b" --client-id cid > /dev/null
az_conf "$b" google
# A redirect without this run's state (an old tab, someone else's code)
# is answered, ignored, and the right one still completes the run.
ignored() {	# NAME MODE WHY-PATTERN
	mockctl authorize-mode "$2" ok > /dev/null
	az_start "$1" "$b"
	u=$(az_url "$1")
	p=$(az_port "$1")
	az_browse "$u" "$MB_TMP/$1.page"
	contains "$1: the page says it was ignored" "$MB_TMP/$1.page" \
		"does not belong to the authorization in progress"
	check "$1: still listening" az_listening "$p"
	check "$1: its code was never redeemed" \
		test "$(mockctl count "users.$b.code")" = 0
	check "$1: nothing stored" no_state "$b"
	az_browse "$u" "$MB_TMP/$1.page2"
	check "$1: then the right redirect completes it: exit 0" \
		test "$(az_rc "$1")" = 0
	contains "$1: the ignored one was logged" "$MB_TMP/$1.err" "$3"
	check "$1: one code redeemed, the right one" \
		test "$(mockctl count "users.$b.code")" = 1
	rm -f "$MB_TMP/state/$b.json"
	mockctl reset counters > /dev/null
}
ignored wrong-state wrong_state \
	"ignored a redirect whose state is not this authorization's"
ignored no-state no_state "ignored a redirect without a state"

# However many forged redirects a local process sends, the run goes on
# (before: 32 ended it with exit 77), the log names the first few only,
# and the right redirect still completes it.
mockctl authorize-mode ok > /dev/null
az_start flood "$b"
u=$(az_url flood)
p=$(az_port flood)
i=0
while [ $i -lt 40 ]; do
	curl -s -o /dev/null --max-time 5 \
		"http://127.0.0.1:$p/?code=forged&state=forged$i"
	i=$((i + 1))
done
check "40 forged redirects: still listening" az_listening "$p"
check "... nothing stored" no_state "$b"
n=$(grep -c "ignored a redirect" "$MB_TMP/flood.err")
check "... the log names the first 5 only ($n)" test "$n" = 5
contains "... then says the rest go unlogged" "$MB_TMP/flood.err" \
	"ignoring them without a word, still waiting"
az_browse "$u" "$MB_TMP/flood.page"
check "... then the right redirect completes it: exit 0" \
	test "$(az_rc flood)" = 0
rm -f "$MB_TMP/state/$b.json"
mockctl reset counters > /dev/null

# A code issued for another challenge: our verifier does not match it.
other=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
refused wrong-verifier "$b" "invalid_grant.*Invalid code verifier" \
	"s/code_challenge=[^&]*/code_challenge=$other/"
check "wrong verifier: refused at the token endpoint" \
	test "$(mockctl count "users.$b.code")" = 1
mockctl authorize-mode deny > /dev/null
refused denied "$b" "access_denied.*declined the authorization"

# --- no answer in time; SIGTERM ------------------------------------------
az_start slow "$b" --timeout 2
az_url slow > /dev/null
p=$(az_port slow)
check "timeout: exit 75" test "$(az_rc slow)" = 75
contains "timeout: says so" "$MB_TMP/slow.err" "no redirect arrived within 2 s"
if az_listening "$p"; then ok 1 "timeout: no listener"; else
	ok 0 "timeout: no listener"; fi
check "timeout: nothing stored" no_state "$b"

"$MB_HELPER" --config "$MB_CONF" authorize "$b" --timeout 50 \
	> "$MB_TMP/term.out" 2> "$MB_TMP/term.err" < /dev/null &
tpid=$!
at_exit "kill -9 $tpid"
wait_for 10 grep -q '^  ssh -L' "$MB_TMP/term.out"
p=$(az_port term)
check "SIGTERM: listening before" az_listening "$p"
kill -TERM "$tpid"
wait_for 5 sh -c "! kill -0 $tpid"
wait "$tpid"
check "SIGTERM: exit 143" test $? = 143
if az_listening "$p"; then ok 1 "SIGTERM: no listener"; else
	ok 0 "SIGTERM: no listener"; fi
check "SIGTERM: no state file, no temporary file" no_state "$b"
contains "SIGTERM: says nothing was stored" "$MB_TMP/term.err" \
	"interrupted; nothing was stored"

# --- Microsoft style ------------------------------------------------------
m=ms@example.com
ms_scope="https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
mockctl account "$m" --client-id cid --style microsoft --rotation rotate \
	--scope "$ms_scope" > /dev/null
az_conf "$m" microsoft "scope = $ms_scope"
az_start ms "$m"
url=$(az_url ms)
p=$(az_port ms)
case $url in
*"redirect_uri=http%3A%2F%2Flocalhost%3A$p%2F"*access_type*) ok 1 \
	"Microsoft: localhost redirect, no access_type" ;;
*"redirect_uri=http%3A%2F%2Flocalhost%3A$p%2F"*"offline_access%20openid%20email%20profile&"*) ok 0 \
	"Microsoft: localhost redirect, no access_type" ;;
*) ok 1 "Microsoft: localhost redirect, no access_type"; diag "$url" ;;
esac
# localhost may resolve to ::1: the redirect reaches authorize there too
# (a process on [::1]:PORT would otherwise receive the code and state).
loc=$(az_location "$url")
case $loc in
"http://localhost:$p/?"*) ok 0 "Microsoft: the provider redirects to localhost" ;;
*) ok 1 "Microsoft: the provider redirects to localhost"; diag "$loc" ;;
esac
curl -s -g --max-time 20 -o "$MB_TMP/ms.page" "http://[::1]:$p/${loc#*:"$p"/}"
check "Microsoft: exit 0, the redirect delivered on ::1" \
	test "$(az_rc ms)" = 0
check "Microsoft: refresh token stored" test -n "$(st_get "$m" refresh_token)"
contains "Microsoft: the id_token confirms who signed in" "$MB_TMP/ms.out" \
	"^authorized: $m \(account $m; confirmed by the provider's id_token"
contains "Microsoft: scopes granted" "$MB_TMP/ms.out" \
	'^scopes: https://outlook.office.com/IMAP.AccessAsUser.All$'
remember_secret "$(st_get "$m" refresh_token)"

# No offline_access: refused before any request.
m2=ms2@example.com
az_conf "$m2" microsoft "scope = https://outlook.office.com/SMTP.Send"
n0=$(mockctl count endpoints.authorize)
mb authorize "$m2" --timeout 5
check "Microsoft without offline_access: exit 78" test $? = 78
contains "... says to add offline_access" "$MB_TMP/err" "offline_access"
check "... before any request" \
	test "$(mockctl count endpoints.authorize)" = "$n0"

# No refresh token in the reply (a generic provider, Microsoft style,
# without offline_access): exit 78; the one imported before is kept (then
# exit 0: the account still works).
n=norefresh@example.com
mockctl account "$n" --client-id cid --style microsoft \
	--scope "$ms_scope" > /dev/null
az_conf "$n" generic "scope = https://outlook.office.com/IMAP.AccessAsUser.All"
az_start norefresh "$n"
az_browse "$(az_url norefresh)" "$MB_TMP/norefresh.page"
check "no refresh token returned: exit 78" test "$(az_rc norefresh)" = 78
contains "... says so" "$MB_TMP/norefresh.err" "issued no refresh token"
echo "mbrt-imported-before-1" | mb import "$n"
az_start kept "$n"
az_browse "$(az_url kept)" "$MB_TMP/kept.page"
check "with a refresh token imported before: exit 0" \
	test "$(az_rc kept)" = 0
contains "... says the previous one is kept" "$MB_TMP/kept.out" \
	"previous one is kept"
check "... the previous refresh token is still there" \
	test "$(st_get "$n" refresh_token)" = mbrt-imported-before-1

# A state directory that cannot be used: said before the user is asked.
r=ro@example.com
: > "$MB_TMP/not-a-dir"
MB_ACCT_STATE_DIR=$MB_TMP/not-a-dir/state az_conf "$r" google
n0=$(mockctl count endpoints.authorize)
mb authorize "$r" --timeout 5
check "unusable state directory: exit 78" test $? = 78
lacks "... before any URL is printed" "$MB_TMP/out" "^https://"
check "... no request" test "$(mockctl count endpoints.authorize)" = "$n0"

# Other requests to the listener get 404 and do not end the wait.
az_start other "$g"
url=$(az_url other)
p=$(az_port other)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	"http://127.0.0.1:$p/favicon.ico")
check "a favicon request: 404" test "$code" = 404
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	"http://127.0.0.1:$p/?foo=bar")
check "a query without code, state or error: 400" test "$code" = 400
check "... still listening" az_listening "$p"
# A browser's speculative connection that never sends anything, held
# open (600 s, far beyond curl's 20 s and az_rc's 40 s) while the
# redirect comes: a listener that waited for it would never answer the
# redirect in time.  (Was a timing assertion, "within 4 s".)
"$MB_PYTHON" -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").write("connected\n")
time.sleep(600)' "$p" "$MB_TMP/idle.up" &
idle=$!
at_exit "kill $idle"
wait_for 20 test -s "$MB_TMP/idle.up" ||
	diag "the idle connection did not connect"
az_browse "$url" "$MB_TMP/other.page"
check "... then the redirect completes it, not held up by it: exit 0" \
	test "$(az_rc other)" = 0
kill "$idle" 2>/dev/null

# --- the client's configuration: advice --------------------------------
advice() {	# NAME ACCOUNT PATTERN
	az_start "$1" "$2"
	az_browse "$(az_url "$1")" "$MB_TMP/$1.page"
	check "$1: exit 78" test "$(az_rc "$1")" = 78
	contains "$1: plain-words advice" "$MB_TMP/$1.err" "$3"
	check "$1: nothing stored" no_state "$2"
}
p1=public@example.com
mockctl account "$p1" --client-id cid --style microsoft \
	--scope "$ms_scope" > /dev/null
az_conf "$p1" microsoft "scope = $ms_scope
client_secret = not-for-a-public-client"
remember_secret not-for-a-public-client
advice aadsts700025 "$p1" "AADSTS700025.*public client, which must not send"
c1=confidential@example.com
mockctl account "$c1" --client-id cid --style microsoft \
	--client-secret webappsecret1 --scope "$ms_scope" > /dev/null
az_conf "$c1" microsoft "scope = $ms_scope"
advice aadsts7000218 "$c1" "AADSTS7000218.*Allow public client flows"
w1=wrongsecret@example.com
mockctl account "$w1" --client-id cid --client-secret right-secret-1 \
	> /dev/null
az_conf "$w1" google "client_secret = wrong-secret-1"
remember_secret wrong-secret-1
advice invalid-client "$w1" "invalid_client.*client_id and client_secret_file"

leak=0
while read -r s; do
	[ -n "$s" ] && grep -qF -- "$s" "$MB_TMP/all-stderr" && leak=1
done < "$MB_TMP/secrets"
ok $leak "no secret on stderr ($(wc -l < "$MB_TMP/secrets") checked)"
done_testing
