# SPDX-License-Identifier: MIT
# Helpers for the `mailbearer authorize` tests (source after tests/lib/tap.sh,
# tests/lib/servers.sh and tests/lib/token.sh, once token_setup ran).  The
# test plays the browser with curl; no browser is ever started (no
# DISPLAY, WAYLAND_DISPLAY or BROWSER in the helper's environment).
unset DISPLAY WAYLAND_DISPLAY BROWSER

# az_conf ACCOUNT PROVIDER [EXTRA LINES]: an account talking to
# the mock provider's authorize, token and device endpoints.
az_conf() {
	mb_conf_account "$MB_CONF" "$1" "$2" \
"authorize_endpoint = $MB_PROVIDER_URL/authorize
device_endpoint = $MB_PROVIDER_URL/devicecode
${3:-}"
}

# az_start NAME ARGS...: `mailbearer authorize ARGS` in the background
# (at most 60 s), stdout in $MB_TMP/NAME.out, stderr in NAME.err, exit
# status in NAME.rc once it ends; its pid in $az_pid.  Standard input
# from $az_stdin (default /dev/null).
az_start() {
	az_name=$1
	shift
	rm -f "$MB_TMP/$az_name.rc"
	( timeout -s KILL 60 "$MB_HELPER" --config "$MB_CONF" authorize "$@" \
		< "${az_stdin:-/dev/null}" > "$MB_TMP/$az_name.out" \
		2> "$MB_TMP/$az_name.err"
	  echo $? > "$MB_TMP/$az_name.rc" ) &
	az_pid=$!
	at_exit "kill -9 $az_pid"
}

# az_url NAME: waits (10 s) for the authorization URL, alone on its line.
az_url() {
	wait_for 10 grep -q '^https://' "$MB_TMP/$1.out" || return 1
	grep -m1 '^https://' "$MB_TMP/$1.out"
}

# az_rc NAME: waits (40 s) for the end; prints the exit status.
az_rc() {
	wait_for 40 test -s "$MB_TMP/$1.rc" || { echo timeout; return 1; }
	cat "$MB_TMP/$1.err" >> "$MB_TMP/all-stderr"
	cat "$MB_TMP/$1.rc"
}

# az_port NAME: the loopback port, from the printed ssh -L line.
az_port() {
	sed -n 's/^  ssh -L \([0-9]*\):127\.0\.0\.1:\([0-9]*\) .*/\1/p' \
		"$MB_TMP/$1.out" | head -1
}

# az_listening PORT: something listens on TCP PORT (any address), from
# /proc/net/tcp and tcp6 (state 0A).
az_listening() {
	az_hex=$(printf '%04X' "$1")
	awk -v p=":$az_hex" '$4 == "0A" && substr($2, length($2) - 4) == p \
		{ f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 \
		2>/dev/null
}

# az_listen_addr PORT: the local address (hex, /proc/net/tcp) listening.
az_listen_addr() {
	az_hex=$(printf '%04X' "$1")
	awk -v p=":$az_hex" '$4 == "0A" && substr($2, length($2) - 4) == p \
		{ print $2 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# az_browse URL OUT: the browser: follows the provider's redirect to the
# loopback listener; the page it shows in OUT.
az_browse() {
	curl -s -L --max-time 20 --cacert "$MB_CA" -o "$2" "$1"
}

# az_location URL: where the provider redirects (for --paste).
az_location() {
	curl -s --max-time 20 --cacert "$MB_CA" -o /dev/null \
		-w '%{redirect_url}' "$1"
}

# no_state ACCOUNT: no state file and no temporary file of ACCOUNT in
# $MB_TMP/state.
no_state() {
	! ls "$MB_TMP/state" 2>/dev/null | grep -qF "$1.json"
}
