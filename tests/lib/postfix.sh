# SPDX-License-Identifier: MIT
# A private Postfix instance as the real SMTP client of the end-to-end tests:
# Postfix's smtp(8) loads our plugin through libsasl2 and relays through the
# private Dovecot's submission service (XOAUTH2/OAUTHBEARER against the mock
# provider), which relays to an smtp-sink that dumps every message into a
# file.  A message found in that file went through our plugin.
#
# Source after tests/lib/tap.sh and tests/lib/servers.sh:
#
#	. "$top_srcdir/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/servers.sh"
#	. "$top_srcdir/tests/lib/postfix.sh"
#	pf_setup                      (skips unless root, postfix, dovecot...)
#	pf_passwd dave@example.com "$token"
#	start_postfix                 (PF_MECH, PF_CHROOT, PF_DEBUG_PEER, PF_ENV)
#	pf_send id1 && pf_wait_delivered id1
#
# Everything lives in $MB_PF_DIR below $MB_TMP: config_directory
# ($MB_PF_CONF), queue_directory ($MB_PF_QUEUE), data_directory and the
# maillog ($MB_PF_LOG, written by postlogd).  smtpd listens on
# 127.0.0.1:$MB_PF_PORT (random); the relayhost is
# [127.0.0.1]:$MB_SUBMISSION_PORT.  The system's /etc/postfix instance is
# never touched (only read: meta_directory for postfix-files).  Every wait
# is bounded; the instance is stopped on exit.

# postfix, postconf, postqueue, postsuper, smtp-sink live in /usr/sbin.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin; export PATH ;; esac

: "${PF_MECH:=xoauth2}"
: "${PF_CHROOT:=n}"
: "${PF_DEBUG_PEER:=}"
: "${PF_ENV:=}"
: "${PF_TLS_LEVEL:=secure}"

# Postfix's smtp is built without ASan: no test of it in the ASan build.
not_sanitized "Postfix's smtp"

# pf_need TOOL...: skip unless root, Postfix, its user and TOOL... are
# there; the built plugin is a must (a failure, not a skip).
pf_need() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (private Postfix)"
	[ -x /usr/sbin/postfix ] || command -v postfix >/dev/null 2>&1 ||
		skip_all "postfix not installed"
	need postfix postconf postqueue python3 openssl timeout "$@"
	built "$MB_PLUGIN_SO"
	id postfix >/dev/null 2>&1 || skip_all "no postfix user"
}

# pf_setup: skip unless everything is there, then start CA, provider, a
# dumping smtp-sink and Dovecot (a server that does not come up is a
# failure: Bail out).
pf_setup() {
	pf_need dovecot doveadm
	[ -x /usr/sbin/smtp-sink ] || need smtp-sink
	start_ca || bail_out "tests/fixtures/ca.sh failed"
	start_provider || { echo "Bail out! mock provider did not start"; exit 1; }
	start_dump_sink || { echo "Bail out! smtp-sink did not start"; exit 1; }
	start_dovecot || { echo "Bail out! dovecot did not start"; exit 1; }
}

# start_dump_sink: smtp-sink on 127.0.0.1 writing each message to a file
# below $MB_SINK_DIR; sets MB_SINK_PORT so that start_dovecot relays there.
start_dump_sink() {
	MB_SINK_DIR=$MB_TMP/sink
	mkdir -p "$MB_SINK_DIR"
	chown nobody "$MB_SINK_DIR"
	chmod 0711 "$MB_TMP"
	export MB_SINK_DIR
	start_smtp_sink -d "$MB_SINK_DIR/%H%M%S."
}

# pf_passwd USER PASSWORD: the smtp_sasl_password_maps table (texthash:,
# no postmap), mode 0600 root: smtp(8) reads it as root before dropping
# privileges.  Takes effect at the next start or pf_reload.
pf_passwd() {
	MB_PF_DIR=$MB_TMP/postfix
	mkdir -p "$MB_PF_DIR/etc"
	( umask 077
	  printf '[127.0.0.1]:%s %s:%s\n' \
		"${PF_RELAY_PORT:-$MB_SUBMISSION_PORT}" "$1" "$2" \
		> "$MB_PF_DIR/etc/sasl_passwd" )
}

# start_postfix: write main.cf/master.cf from tests/fixtures/postfix/*.in and start
# the instance.  PF_MECH is smtp_sasl_mechanism_filter, PF_CHROOT (y|n)
# the smtp client's chroot column, PF_DEBUG_PEER debug_peer_list, PF_ENV
# extra NAME=VALUE words for import_environment (no spaces inside),
# PF_TLS_LEVEL smtp_tls_security_level (default secure, against the test
# CA; the relay's certificate names localhost), PF_RELAY_PORT the relay's
# port on 127.0.0.1 (default: Dovecot's submission service; pf_passwd uses
# it too).
start_postfix() {
	MB_PF_DIR=$MB_TMP/postfix
	MB_PF_CONF=$MB_PF_DIR/etc
	MB_PF_QUEUE=$MB_PF_DIR/spool
	MB_PF_LOG=$MB_PF_DIR/maillog
	mb_relay_port=${PF_RELAY_PORT:-$MB_SUBMISSION_PORT}
	mkdir -p "$MB_PF_CONF" "$MB_PF_QUEUE" "$MB_PF_DIR/data"
	# Postfix's unprivileged processes traverse (not list) $MB_TMP.
	chmod 0711 "$MB_TMP"
	chmod 0755 "$MB_PF_DIR" "$MB_PF_CONF" "$MB_PF_QUEUE"
	chown postfix "$MB_PF_DIR/data"
	[ -f "$MB_PF_CONF/sasl_passwd" ] || ( umask 077;
		: > "$MB_PF_CONF/sasl_passwd" )
	: > "$MB_PF_LOG"
	mb_try=0
	while [ "$mb_try" -lt 5 ]; do
		MB_PF_PORT=$(free_port)
		sed -e "s|@DIR@|$MB_PF_DIR|g" \
			-e "s|@SASL_PATH@|$SASL_PATH|g" \
			-e "s|@EXTRA_ENV@|$PF_ENV|g" \
			-e "s|@RELAY_PORT@|$mb_relay_port|g" \
			-e "s|@MECH@|$PF_MECH|g" \
			-e "s|@DEBUG_PEER@|$PF_DEBUG_PEER|g" \
			-e "s|@TLS_LEVEL@|$PF_TLS_LEVEL|g" \
			-e "s|@CA@|$MB_CA|g" \
			"$top_srcdir/tests/fixtures/postfix/main.cf.in" \
			> "$MB_PF_CONF/main.cf"
		sed -e "s|@SMTPD_PORT@|$MB_PF_PORT|g" \
			-e "s|@CHROOT@|$PF_CHROOT|g" \
			"$top_srcdir/tests/fixtures/postfix/master.cf.in" \
			> "$MB_PF_CONF/master.cf"
		if timeout 60 postfix -c "$MB_PF_CONF" start \
			> "$MB_PF_DIR/start.out" 2>&1; then
			at_exit "stop_postfix"
			if wait_for "$MB_START_TIMEOUT" mb_port_open "$MB_PF_PORT"
			then
				export MB_PF_DIR MB_PF_CONF MB_PF_QUEUE MB_PF_LOG \
					MB_PF_PORT
				return 0
			fi
			stop_postfix
		fi
		mb_try=$((mb_try + 1))
	done
	diag "postfix did not start:"
	mb_diag_file "$MB_PF_DIR/start.out"
	mb_diag_file "$MB_PF_LOG"
	return 1
}

# pf_master_pid: the master's pid, if it runs.
pf_master_pid() {
	mb_mp=$(sed -n '1s/[^0-9]//gp' "$MB_PF_QUEUE/pid/master.pid" \
		2>/dev/null)
	[ -n "$mb_mp" ] && kill -0 "$mb_mp" 2>/dev/null && echo "$mb_mp"
}

# stop_postfix: `postfix stop` (bounded), then SIGKILL the master and its
# children if they are still there (by pid, never by name).
stop_postfix() {
	[ -n "${MB_PF_CONF:-}" ] || return 0
	mb_mp=$(pf_master_pid)
	[ -n "$mb_mp" ] || return 0
	mb_kids=$(ps -o pid= --ppid "$mb_mp" 2>/dev/null)
	timeout 20 postfix -c "$MB_PF_CONF" stop >/dev/null 2>&1
	mb_n=0
	while kill -0 "$mb_mp" 2>/dev/null && [ "$mb_n" -lt 100 ]; do
		sleep 0.1
		mb_n=$((mb_n + 1))
	done
	kill -KILL "$mb_mp" $mb_kids 2>/dev/null
	return 0
}

# pf_reload: `postfix reload` after a change of main.cf/master.cf or the
# password table (smtp processes cache it); waits until the master has
# logged the reload.
pf_reload() {
	mb_n=$(grep -c 'reload -- version' "$MB_PF_LOG")
	timeout 20 postfix -c "$MB_PF_CONF" reload >/dev/null 2>&1 || return 1
	wait_for 20 pf_log_count_gt 'reload -- version' "$mb_n"
}

# pf_set NAME=VALUE...: postconf -e in our instance (then pf_reload).
pf_set() { postconf -c "$MB_PF_CONF" -e "$@"; }
# pf_set_master SERVICE/TYPE/FIELD=VALUE: postconf -F in our master.cf.
pf_set_master() { postconf -c "$MB_PF_CONF" -F "$@"; }

# pf_log_count_gt ERE N: the maillog has more than N lines matching ERE.
pf_log_count_gt() { [ "$(grep -Ec -- "$1" "$MB_PF_LOG")" -gt "$2" ]; }

# pf_send ID [FROM [TO]]: submit a message to our Postfix's smtpd with
# Message-ID <ID@mb-test> and ID in the subject and body.
pf_send() {
	timeout 30 "$MB_PYTHON" - "$MB_PF_PORT" "$1" "${2:-dave@example.com}" \
		"${3:-bob@example.com}" <<'EOF'
import smtplib, sys
port, mid, frm, to = sys.argv[1:5]
msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: mailbearer postfix %s\r\n"
       "Message-ID: <%s@mb-test>\r\n\r\nbody of %s\r\n"
       % (frm, to, mid, mid, mid))
with smtplib.SMTP("127.0.0.1", int(port), timeout=20) as s:
    s.sendmail(frm, [to], msg)
EOF
}

# pf_queue_id ID: the Postfix queue id of the message with Message-ID ID.
pf_queue_id() {
	sed -n "s/.* \([0-9A-F]\{6,\}\): message-id=<$1@mb-test>.*/\1/p" \
		"$MB_PF_LOG" | head -n 1
}

# pf_delivered ID: the sink received the message (and kept its body).
pf_delivered() { grep -rlq -- "body of $1" "$MB_SINK_DIR" 2>/dev/null; }
# pf_wait_delivered ID [SECONDS]: wait for it, flushing the queue now and
# then (deferred mail is retried at once instead of after the backoff).
pf_wait_delivered() {
	mb_n=0
	while [ "$mb_n" -lt "${2:-30}" ]; do
		pf_delivered "$1" && return 0
		sleep 1
		pf_delivered "$1" && return 0
		timeout 10 postqueue -c "$MB_PF_CONF" -f >/dev/null 2>&1
		mb_n=$((mb_n + 2))
	done
	return 1
}

# pf_status_of ID STATUS: the maillog has a status=STATUS line for ID's
# queue id.
pf_status_of() {
	mb_q=$(pf_queue_id "$1")
	[ -n "$mb_q" ] && grep -q " $mb_q: .* status=$2" "$MB_PF_LOG"
}
# pf_wait_status ID STATUS [SECONDS]
pf_wait_status() { wait_for "${3:-30}" pf_status_of "$1" "$2"; }

# pf_log_of ID: the maillog lines of ID's queue id.
pf_log_of() {
	mb_q=$(pf_queue_id "$1")
	[ -n "$mb_q" ] && grep " $mb_q: " "$MB_PF_LOG"
}

# pf_mark: remember the maillog's length; pf_log_since prints what came
# after the last pf_mark.
pf_mark() { mb_pf_mark=$(wc -l < "$MB_PF_LOG"); }
pf_log_since() { tail -n "+$(( ${mb_pf_mark:-0} + 1 ))" "$MB_PF_LOG"; }
