#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer serve` as a daemon (no --foreground: it forks and changes to
# /) with a configuration given by a RELATIVE path whose state_dir and
# ca_file are relative too: they are relative to the configuration's
# directory (mailbearer.conf(5)) and must stay so after the daemon's
# chdir, for refreshing and for a SIGHUP reload alike.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
ask() { timeout 30 python3 "$CLIENT" "$@"; }
mkdir "$MB_TMP/conf"
cp "$MB_CA" "$MB_TMP/conf/ca.pem"
acct() {
	cat <<EOC
[$1]
provider = generic
token_endpoint = $MB_PROVIDER_URL/token
client_id = cid
ca_file = ca.pem
state_dir = state
timeout = 2
connect_timeout = 2
EOC
}
acct d@example.com > "$MB_TMP/conf/rel.conf"
chmod 600 "$MB_TMP/conf/rel.conf"
rt=$(mockctl account d@example.com --client-id cid)
(cd "$MB_TMP" && printf '%s\n' "$rt" |
	"$MB_HELPER" --config conf/rel.conf import d@example.com \
	> /dev/null 2> "$MB_TMP/err")
ok $? "import through the relative configuration path"
check "state in the configuration's directory" \
	test -f "$MB_TMP/conf/state/d@example.com.json"

SOCK=$MB_TMP/serve.sock
(cd "$MB_TMP" && "$MB_HELPER" --config conf/rel.conf serve --socket "$SOCK" \
	< /dev/null > /dev/null 2> "$MB_TMP/serve.err")
ok $? "serve daemonised"
check "socket created" wait_for 20 test -S "$SOCK"
# The daemon's pid: the process whose arguments name our (unique) socket.
# (The socket's peer credentials name the parent that bound it.)
dpid=$(python3 -c 'import os, sys
want = sys.argv[1].encode()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    try:
        args = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
    except OSError:
        continue
    if want in args and b"serve" in args and b"python3" not in args[0]:
        print(p)
        break' "$SOCK")
check "daemon pid known" test -n "$dpid"
[ -n "$dpid" ] && at_exit "stop_pid $dpid"

ask "$SOCK" "MAILBEARER1 TOKEN d@example.com" > "$MB_TMP/r1"
contains "a token through the relative ca_file and state_dir" \
	"$MB_TMP/r1" '^MAILBEARER1 OK [0-9]+ '
check "the state holds it" \
	grep -q '"access_token"' "$MB_TMP/conf/state/d@example.com.json"

# Reload: a new account appears after SIGHUP.
acct e@example.com >> "$MB_TMP/conf/rel.conf"
rt2=$(mockctl account e@example.com --client-id cid)
(cd "$MB_TMP" && printf '%s\n' "$rt2" |
	"$MB_HELPER" --config conf/rel.conf import e@example.com \
	> /dev/null 2>> "$MB_TMP/err")
ok $? "import a second account"
[ -n "$dpid" ] && kill -HUP "$dpid"
new_account_served() {
	ask "$SOCK" "MAILBEARER1 TOKEN e@example.com" > "$MB_TMP/r2"
	grep -q '^MAILBEARER1 OK ' "$MB_TMP/r2"
}
check "after SIGHUP the reloaded configuration is used" \
	wait_for 20 new_account_served
grep . "$MB_TMP/r2" | sed 's/OK \([0-9]*\) .*/OK \1 <token>/' | diag_stdin

[ -n "$dpid" ] && kill -TERM "$dpid"
check "SIGTERM: the socket is removed" wait_for 20 test ! -e "$SOCK"
lacks "no refresh token on stderr" "$MB_TMP/err" "$rt"
done_testing
