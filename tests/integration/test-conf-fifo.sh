#!/bin/sh
# SPDX-License-Identifier: MIT
# A FIFO (or another special file) as the configuration, as
# client_secret_file or as ca_file is refused at once with an error naming
# the file and what it is; nothing waits for a writer.  Every run is
# bounded by timeout(1): status 124 would mean the open blocked.
. "$top_srcdir/tests/lib/tap.sh"

need_helper
need timeout mkfifo
mkfifo "$MB_TMP/fifo" || bail_out "cannot make a FIFO in $MB_TMP"
export HOME="$MB_TMP" XDG_STATE_HOME="$MB_TMP/state"
export XDG_RUNTIME_DIR="$MB_TMP/run"

# refused NAME WANT CMD...: CMD ends within 10 s with status 78 and an
# error containing WANT (status says an account's own error on stdout).
refused() {
	r_name=$1 r_want=$2
	shift 2
	timeout 10 "$@" >"$MB_TMP/out" 2>"$MB_TMP/err" </dev/null
	rc=$?
	if [ "$rc" = 124 ]; then
		ok 1 "$r_name: ends at once (it blocked on the FIFO)"
	else
		ok 0 "$r_name: ends at once"
	fi
	check "$r_name: configuration error status (78)" test "$rc" = 78
	if cat "$MB_TMP/out" "$MB_TMP/err" | grep -qF -- "$r_want"; then
		ok 0 "$r_name: the error says what the file is"
	else
		ok 1 "$r_name: the error says what the file is"
		diag "want: $r_want"
		diag_stdin < "$MB_TMP/err"
	fi
}

refused "status, the configuration a FIFO" \
	"$MB_TMP/fifo: the configuration is a FIFO (named pipe), not a" \
	"$MB_HELPER" status --config "$MB_TMP/fifo"
refused "token, the configuration a FIFO" "is a FIFO (named pipe)" \
	"$MB_HELPER" --config "$MB_TMP/fifo" token a

cat > "$MB_TMP/secret.conf" <<EOF
[a]
provider = google
client_id = c
client_secret_file = fifo
EOF
refused "client_secret_file a FIFO" \
	"secret.conf:4: client_secret_file $MB_TMP/fifo is a FIFO" \
	"$MB_HELPER" token --config "$MB_TMP/secret.conf" a

cat > "$MB_TMP/ca.conf" <<EOF
[a]
provider = generic
token_endpoint = https://127.0.0.1:1/token
client_id = c
ca_file = $MB_TMP/fifo
EOF
refused "ca_file a FIFO" \
	"ca.conf:5: ca_file $MB_TMP/fifo is a FIFO (named pipe), not a" \
	"$MB_HELPER" status --config "$MB_TMP/ca.conf"

refused "status, the configuration a device" \
	"/dev/zero: the configuration is a character device" \
	"$MB_HELPER" status --config /dev/zero

# serve loads the same way; it must refuse to start, not hang.
timeout 10 "$MB_HELPER" serve --foreground --config "$MB_TMP/fifo" \
	--socket "$MB_TMP/sock" >"$MB_TMP/out" 2>"$MB_TMP/err" </dev/null
rc=$?
check "serve, the configuration a FIFO: ends at once" test "$rc" != 124
check "serve, the configuration a FIFO: fails" test "$rc" != 0
contains "serve, the configuration a FIFO: says so" "$MB_TMP/err" \
	'is a FIFO \(named pipe\)'
done_testing
