# SPDX-License-Identifier: MIT
# Test servers for shell tests: a throw-away CA, the mock OAuth2 provider, an
# SMTP sink and a private Dovecot, all on 127.0.0.1 with ports chosen at run
# time, all under $MB_TMP, all stopped on exit (at_exit).  Source it after
# tests/lib/tap.sh:
#
#	. "$top_srcdir/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/servers.sh"
#	start_ca || bail_out "tests/fixtures/ca.sh failed"
#	start_provider || bail "mock provider did not start"
#	start_dovecot || ...
#
# Each start_* returns non-zero (after printing the server's log as TAP
# diagnostics) when its server is not up within a bounded time.  Variables
# exported for the tests:
#   start_ca        MB_CA (CA certificate), MB_CA_DIR (server.pem/.key too)
#   start_provider  MB_PROVIDER_URL, MB_PROVIDER_PORT, MB_PROVIDER_PID,
#                   MB_PROVIDER_LOG; `mockctl ARGS` drives its control API
#   start_smtp_sink MB_SINK_PORT, MB_SINK_PID
#   start_dovecot   MB_IMAP_PORT, MB_POP3_PORT, MB_SUBMISSION_PORT,
#                   MB_DOVECOT_DIR, MB_DOVECOT_CONF, MB_DOVECOT_LOG
# Every wait is bounded by MB_START_TIMEOUT seconds (default 20).

: "${MB_START_TIMEOUT:=20}"
# A test whose output pipe closes (| head) or whose terminal goes away
# must still run its at_exit hooks, which stop the servers.
trap 'exit 141' PIPE
trap 'exit 129' HUP
MB_PROVIDER_PY="$top_srcdir/tests/fixtures/mock-provider/mock_oauth2.py"
MB_MOCKCTL_PY="$top_srcdir/tests/fixtures/mock-provider/mockctl.py"

# stop_pid PID [SECONDS]: SIGTERM, wait (bounded), then SIGKILL.
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	mb_n=0
	while kill -0 "$1" 2>/dev/null && [ "$mb_n" -lt "$(( ${2:-5} * 10 ))" ]
	do
		sleep 0.1
		mb_n=$((mb_n + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# mb_watchdog CMD: run CMD once this test shell is gone, whatever killed
# it (even SIGKILL, where no EXIT trap runs).  Polls once a second; holds
# none of the test's file descriptors, so the harness does not wait for it.
mb_watchdog() {
	mb_parent=$$
	( trap '' INT TERM HUP
	  while kill -0 "$mb_parent" 2>/dev/null; do sleep 1; done
	  eval "$1" ) < /dev/null > /dev/null 2>&1 &
}

# mb_kill_if PID WORD: SIGTERM to PID if its command line contains WORD
# (the PID may have been reused since).
mb_kill_if() {
	[ -n "${1:-}" ] && tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null |
		grep -q -- "$2" && kill "$1"
}

# mb_diag_file FILE: the last lines of FILE as TAP diagnostics.
mb_diag_file() {
	[ -f "$1" ] && tail -n 30 "$1" | sed 's/^/# /'
	return 0
}

# start_ca: the run's CA (tests/fixtures/ca.sh), shared by every test of
# the build tree: made once, under a lock (make -j2 runs tests at once),
# in $top_builddir/tests/ca-GEN, which the link tests/ca names; made anew
# (a new GEN) when the server certificate expires within a day, so that a
# test still using the old one keeps it.  Tests only read it: one that
# needs a copy with other modes makes it in $MB_TMP.  A failure here is a
# broken fixture: the caller fails the test (never a skip).
start_ca() {
	mb_cadir=$top_builddir/tests
	mkdir -p "$mb_cadir" || return 1
	(
		flock -w 300 9 || { echo "start_ca: no lock in 300 s" >&2; exit 1; }
		if [ -f "$mb_cadir/ca/server-chain.pem" ] && openssl x509 \
		    -checkend 86400 -noout -in "$mb_cadir/ca/server.pem" \
		    > /dev/null 2>&1; then
			exit 0
		fi
		mb_gen=ca-$(date +%s)-$$
		sh "$top_srcdir/tests/fixtures/ca.sh" "$mb_cadir/$mb_gen" &&
			ln -sfn "$mb_gen" "$mb_cadir/ca.new" &&
			mv -T "$mb_cadir/ca.new" "$mb_cadir/ca" || exit 1
		# generations whose certificates have expired: nobody uses them
		for mb_old in "$mb_cadir"/ca-*; do
			[ "$mb_old" = "$mb_cadir/$mb_gen" ] || openssl x509 \
			    -checkend 0 -noout -in "$mb_old/server.pem" \
			    > /dev/null 2>&1 || rm -rf "$mb_old"
		done
	) 9> "$mb_cadir/ca.lock" 2> "$MB_TMP/ca.err" || {
		mb_diag_file "$MB_TMP/ca.err"; return 1; }
	MB_CA_DIR=$(readlink -f "$mb_cadir/ca") || return 1
	MB_CA=$MB_CA_DIR/ca.pem
	export MB_CA MB_CA_DIR
}

# start_provider [EXTRA ARGS...]: the mock OAuth2 provider (needs start_ca).
start_provider() {
	mb_pf=$MB_TMP/provider.port
	MB_PROVIDER_LOG=$MB_TMP/provider.log
	rm -f "$mb_pf"
	"$MB_PYTHON" "$MB_PROVIDER_PY" --cert "$MB_CA_DIR/server.pem" \
		--key "$MB_CA_DIR/server.key" --port-file "$mb_pf" \
		--log "$MB_PROVIDER_LOG" --max-lifetime 1800 "$@" \
		>> "$MB_PROVIDER_LOG" 2>&1 &
	MB_PROVIDER_PID=$!
	at_exit "stop_pid $MB_PROVIDER_PID"
	mb_watchdog "mb_kill_if $MB_PROVIDER_PID mock_oauth2"
	if ! wait_for "$MB_START_TIMEOUT" test -s "$mb_pf"; then
		diag "mock provider: no port file"
		mb_diag_file "$MB_PROVIDER_LOG"
		return 1
	fi
	MB_PROVIDER_PORT=$(cat "$mb_pf")
	MB_PROVIDER_URL=https://127.0.0.1:$MB_PROVIDER_PORT
	export MB_PROVIDER_URL MB_PROVIDER_PORT MB_PROVIDER_PID MB_PROVIDER_LOG
	mockctl health || { mb_diag_file "$MB_PROVIDER_LOG"; return 1; }
}

stop_provider() { stop_pid "${MB_PROVIDER_PID:-}"; }

# mockctl ARGS...: tests/fixtures/mock-provider/mockctl.py against our provider.
mockctl() {
	timeout 30 "$MB_PYTHON" "$MB_MOCKCTL_PY" --url "$MB_PROVIDER_URL" \
		--ca "$MB_CA" "$@"
}

# start_smtp_sink [SINK-ARGS...]: Postfix's smtp-sink on 127.0.0.1 (the
# relay Dovecot's submission service forwards to), with SINK-ARGS.
start_smtp_sink() {
	mb_sink=/usr/sbin/smtp-sink
	[ -x "$mb_sink" ] || mb_sink=$(command -v smtp-sink) || return 1
	mb_try=0
	while [ "$mb_try" -lt 5 ]; do
		MB_SINK_PORT=$(free_port)
		"$mb_sink" -u nobody "$@" -c "127.0.0.1:$MB_SINK_PORT" 16 \
			> "$MB_TMP/sink.log" 2>&1 &
		MB_SINK_PID=$!
		if wait_for 5 mb_port_open "$MB_SINK_PORT"; then
			at_exit "stop_pid $MB_SINK_PID"
			mb_watchdog "mb_kill_if $MB_SINK_PID smtp-sink"
			export MB_SINK_PORT MB_SINK_PID
			return 0
		fi
		stop_pid "$MB_SINK_PID"
		mb_try=$((mb_try + 1))
	done
	mb_diag_file "$MB_TMP/sink.log"
	return 1
}

# mb_port_open PORT: something listens on 127.0.0.1:PORT.
mb_port_open() {
	"$MB_PYTHON" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.close()' "$1" 2>/dev/null
}

# start_dovecot: a private Dovecot (imap, pop3, submission) whose passdb
# oauth2 introspects tokens at the mock provider.  Needs root (Dovecot
# switches to the dovecot/dovenull users), start_provider first, and
# start_smtp_sink for submission (started here if not yet).
start_dovecot() {
	command -v dovecot >/dev/null 2>&1 || { diag "no dovecot"; return 1; }
	[ -n "${MB_SINK_PORT:-}" ] || start_smtp_sink || return 1
	MB_DOVECOT_DIR=$MB_TMP/dovecot
	MB_DOVECOT_CONF=$MB_DOVECOT_DIR/dovecot.conf
	MB_DOVECOT_LOG=$MB_DOVECOT_DIR/dovecot.log
	mb_uid=$(id -u dovecot) && mb_gid=$(id -g dovecot) || return 1
	# Dovecot's unprivileged processes must reach their directories
	# below $MB_TMP: let them traverse (not list) it.
	chmod 0711 "$MB_TMP"
	mkdir -p "$MB_DOVECOT_DIR/run" "$MB_DOVECOT_DIR/state" \
		"$MB_DOVECOT_DIR/mail" "$MB_DOVECOT_DIR/home"
	chmod 0755 "$MB_DOVECOT_DIR"
	chown "$mb_uid:$mb_gid" "$MB_DOVECOT_DIR/mail" "$MB_DOVECOT_DIR/home"
	# The CA directory is 0700: give Dovecot's auth process a copy of
	# the (public) CA certificate.
	cp "$MB_CA" "$MB_DOVECOT_DIR/ca.pem" && chmod 0644 "$MB_DOVECOT_DIR/ca.pem"
	sed -e "s|@PROVIDER_URL@|$MB_PROVIDER_URL|g" \
		-e "s|@CA@|$MB_DOVECOT_DIR/ca.pem|g" \
		"$top_srcdir/tests/fixtures/dovecot/dovecot-oauth2.conf.ext.in" \
		> "$MB_DOVECOT_DIR/dovecot-oauth2.conf.ext"
	mb_try=0
	while [ "$mb_try" -lt 5 ]; do
		MB_IMAP_PORT=$(free_port)
		MB_POP3_PORT=$(free_port)
		MB_SUBMISSION_PORT=$(free_port)
		sed -e "s|@DIR@|$MB_DOVECOT_DIR|g" \
			-e "s|@ID@|$$|g" \
			-e "s|@UID@|$mb_uid|g" -e "s|@GID@|$mb_gid|g" \
			-e "s|@IMAP_PORT@|$MB_IMAP_PORT|g" \
			-e "s|@POP3_PORT@|$MB_POP3_PORT|g" \
			-e "s|@SUBMISSION_PORT@|$MB_SUBMISSION_PORT|g" \
			-e "s|@RELAY_PORT@|$MB_SINK_PORT|g" \
			-e "s|@CERT@|$MB_CA_DIR/server.pem|g" \
			-e "s|@KEY@|$MB_CA_DIR/server.key|g" \
			"$top_srcdir/tests/fixtures/dovecot/dovecot.conf.in" \
			> "$MB_DOVECOT_CONF"
		: > "$MB_DOVECOT_LOG"
		if timeout 20 dovecot -c "$MB_DOVECOT_CONF" \
			2> "$MB_DOVECOT_DIR/start.err"; then
			at_exit "stop_dovecot"
			mb_watchdog "mb_kill_if \$(cat '$MB_DOVECOT_DIR/run/master.pid') dovecot"
			if wait_for "$MB_START_TIMEOUT" mb_dovecot_up; then
				export MB_IMAP_PORT MB_POP3_PORT \
					MB_SUBMISSION_PORT MB_DOVECOT_DIR \
					MB_DOVECOT_CONF MB_DOVECOT_LOG
				return 0
			fi
			stop_dovecot
		fi
		# Most likely a port taken between free_port and bind: retry.
		mb_try=$((mb_try + 1))
	done
	diag "dovecot did not start:"
	mb_diag_file "$MB_DOVECOT_DIR/start.err"
	mb_diag_file "$MB_DOVECOT_LOG"
	return 1
}

mb_dovecot_up() {
	mb_port_open "$MB_IMAP_PORT" && mb_port_open "$MB_POP3_PORT" &&
		mb_port_open "$MB_SUBMISSION_PORT"
}

# stop_dovecot: `doveadm stop`, then the master's pid by SIGTERM/SIGKILL.
stop_dovecot() {
	[ -n "${MB_DOVECOT_CONF:-}" ] || return 0
	mb_pid=$(cat "$MB_DOVECOT_DIR/run/master.pid" 2>/dev/null)
	timeout 10 doveadm -c "$MB_DOVECOT_CONF" stop >/dev/null 2>&1
	stop_pid "$mb_pid" 10
}

# --- the cyrus-clients (imtest, pop3test, smtptest) through our plugin -----

MB_CYRUS_BIN=${MB_CYRUS_BIN:-/usr/lib/cyrus/bin}
MB_SYSLOG_SHIM=$top_builddir/tests/fixtures/.libs/libsyslogshim.so

# e2e_setup TOOL: skip the whole test unless the plugin, the client and
# Dovecot are there; then start CA, provider and Dovecot (bail out if one
# does not come up: that is a failure, not a skip).
e2e_setup() {
	not_sanitized "$1"
	[ "$(id -u)" = 0 ] || skip_all "needs root (private Dovecot)"
	built "$MB_PLUGIN_SO"
	[ -x "$MB_CYRUS_BIN/$1" ] || skip_all "no $MB_CYRUS_BIN/$1 (cyrus-clients)"
	built "$MB_SYSLOG_SHIM"
	need dovecot doveadm python3 openssl setsid timeout
	[ -x /usr/sbin/smtp-sink ] || need smtp-sink
	start_ca || bail_out "tests/fixtures/ca.sh failed"
	start_provider || { echo "Bail out! mock provider did not start"; exit 1; }
	start_dovecot || { echo "Bail out! dovecot did not start"; exit 1; }
}

# sasl_client OUT TOOL PORT MECH USER TOKEN CMDS [OPTIONS...]
# Runs the cyrus-clients TOOL against 127.0.0.1:PORT with -m MECH -a USER.
# The token goes through the client's password prompt, which getpass(3)
# reads from stdin when there is no terminal (setsid: no controlling tty),
# so it is in neither argv nor the environment; the lines of CMDS follow
# on stdin once authenticated.  Transcript in OUT, what libsasl2 and our
# plugin logged (through syslog, captured by tests/fixtures/syslog-shim.c) in
# OUT.syslog.  Bounded by 30 s.  Returns the client's exit status.
sasl_client() {
	mb_out=$1 mb_tool=$2 mb_port=$3 mb_mech=$4 mb_user=$5 mb_tok=$6
	mb_cmds=$7
	shift 7
	( umask 077; printf '%s\n%s\n' "$mb_tok" "$mb_cmds" > "$mb_out.in" )
	: > "$mb_out.syslog"
	MB_SYSLOG_FILE=$mb_out.syslog LD_PRELOAD=$MB_SYSLOG_SHIM \
		setsid -w timeout 30 "$MB_CYRUS_BIN/$mb_tool" -p "$mb_port" \
		-m "$mb_mech" -a "$mb_user" "$@" 127.0.0.1 \
		< "$mb_out.in" > "$mb_out" 2>&1
	mb_rc=$?
	rm -f "$mb_out.in"
	return $mb_rc
}

# b64_of STRING: what the transcript shows for a client response.
b64_of() { printf '%s' "$1" | base64 -w0; }

# refused_exchange NAME OUT MECH USER TOKEN CHALLENGE FINAL ABORT: the
# checks of a login the server refused after its error challenge, in the
# transcript OUT of sasl_client: the challenge (ERE CHALLENGE), our answer
# (the empty response for XOAUTH2, %x01 = "AQ==" for OAUTHBEARER), the
# server's final failure (ERE FINAL) and no abort or protocol error (ERE
# ABORT); in OUT.syslog, our decoded reason naming USER and no TOKEN.
refused_exchange() {
	rx_name=$1 rx_out=$2 rx_mech=$3 rx_user=$4 rx_tok=$5
	contains "$rx_name: the server sent its error challenge" \
		"$rx_out" "$6"
	if [ "$rx_mech" = XOAUTH2 ]; then
		contains "$rx_name: we answered with an empty response" \
			"$rx_out" 'C:[[:space:]]*$'
	else
		contains "$rx_name: we answered with %x01" \
			"$rx_out" 'C: AQ==[[:space:]]*$'
	fi
	contains "$rx_name: the server's final failure" "$rx_out" "$7"
	lacks "$rx_name: clean exchange (no abort)" "$rx_out" "$8"
	contains "$rx_name: our decoded reason in the log" \
		"$rx_out.syslog" "<errdetail> $rx_mech: .*$rx_user"
	lacks "$rx_name: token not in the plugin's log" \
		"$rx_out.syslog" "$rx_tok"
}
