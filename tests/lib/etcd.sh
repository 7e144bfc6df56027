# SPDX-License-Identifier: MIT
# A private 3-node etcd cluster for the `store = etcd` tests: all on
# 127.0.0.1 with ports chosen at run time, TLS for clients and peers with
# certificates of the suite's CA, data under $MB_TMP/etcd.*, stopped on exit
# (at_exit) and by a watchdog even when the test is killed.  Source after
# tests/lib/tap.sh and tests/lib/servers.sh:
#
#	. "$top_srcdir/tests/lib/tap.sh"
#	. "$top_srcdir/tests/lib/servers.sh"
#	. "$top_srcdir/tests/lib/etcd.sh"
#	etcd_need
#	etcd_cluster_start --auth || bail_out "etcd cluster did not start"
#	etcd_ctl put /mailbearer/k v
#
# etcd_cluster_start [--auth] [--client-cert] exports
#   ETCD_ENDPOINTS  https://127.0.0.1:P1,https://127.0.0.1:P2,https://...:P3
#   ETCD_CA         the CA certificate that signed the nodes' certificates
#   --auth:         ETCD_USER (mbuser) and ETCD_PASSWORD_FILE (0600): a
#                   role `mailbearer` may read and write under /mailbearer/
#                   only; root's password stays in $ETCD_DIR/root.pw
#   --client-cert:  ETCD_CERT, ETCD_KEY: the nodes require a client
#                   certificate.  Its subject has no CN: the gRPC-JSON
#                   gateway (what libcurl talks to) refuses a certificate
#                   with a CN (HTTP 400).
# and ETCD_DIR.  Node N (1..3) listens on ETCD_PORT_N, its pid is in
# $ETCD_DIR/nN.pid, its log in $ETCD_DIR/nN.log.  Every wait is bounded
# by ETCD_TIMEOUT seconds (default 60) of wall-clock time.
# (/work/briefs/etcd-gateway.md has the gateway's answers, measured.)

: "${ETCD_TIMEOUT:=60}"
# etcdctl's own bounds, per attempt
mb_etcd_opts="--dial-timeout=1s --command-timeout=3s"

# etcd_need: etcd and etcdctl are required packages (etcd-server,
# etcd-client; contrib/install-deps.sh): missing is a failure, never a
# skip.
etcd_need() {
	need openssl timeout
	for mb_c in etcd etcdctl; do
		command -v "$mb_c" >/dev/null 2>&1 && continue
		echo "Bail out! $mb_c not installed:" \
			"run contrib/install-deps.sh (etcd-server, etcd-client)"
		exit 1
	done
}

# etcd_wait SECONDS CMD...: poll CMD (wait_for) until it succeeds, at most
# SECONDS of wall-clock time however long one CMD takes.
etcd_wait() {
	mb_etcd_ok=0
	mb_etcd_end=$(( $(date +%s) + $1 ))
	wait_for "$1" mb_etcd_until "$@"
	[ "$mb_etcd_ok" = 1 ]
}
mb_etcd_until() {
	shift
	if "$@"; then mb_etcd_ok=1; return 0; fi
	[ "$(date +%s)" -ge "$mb_etcd_end" ]
}

# etcd_issue NAME EKU SUBJECT [SAN]: NAME.pem and NAME.key in
# $ETCD_DIR/pki, signed by the suite's CA (start_ca).
etcd_issue() {
	mb_pki=$ETCD_DIR/pki
	mkdir -p "$mb_pki" && chmod 0700 "$mb_pki" || return 1
	{
		printf '[req]\ndistinguished_name = dn\n[dn]\n[ext]\n'
		printf 'basicConstraints = critical, CA:false\n'
		printf 'keyUsage = critical, digitalSignature, %s\n' \
			keyEncipherment
		printf 'extendedKeyUsage = %s\n' "$2"
		[ -z "${4:-}" ] || printf 'subjectAltName = %s\n' "$4"
	} > "$mb_pki/$1.cnf"
	( umask 077
	  openssl req -new -newkey rsa:2048 -nodes -subj "$3" \
		-config "$mb_pki/$1.cnf" -keyout "$mb_pki/$1.key" \
		-out "$mb_pki/$1.csr" &&
	  openssl x509 -req -in "$mb_pki/$1.csr" -CA "$MB_CA" \
		-CAkey "$MB_CA_DIR/ca.key" -CAcreateserial \
		-CAserial "$mb_pki/ca.srl" -days 2 -extfile "$mb_pki/$1.cnf" \
		-extensions ext -out "$mb_pki/$1.pem" ) \
		> "$mb_pki/$1.err" 2>&1 ||
		{ mb_diag_file "$mb_pki/$1.err"; return 1; }
}

# etcd_ctl ARGS...: etcdctl (API v3) against the whole cluster, with its
# CA, the client certificate (--client-cert) and root's credentials
# (--auth; in etcdctl's environment, never in argv).  ETCD_AS=mbuser
# etcd_ctl ... runs it as the test user instead.
etcd_ctl() {
	etcd_ctl_at "$ETCD_ENDPOINTS" "$@"
}
# etcd_ctl_at ENDPOINTS ARGS...: the same against ENDPOINTS only.
etcd_ctl_at() {
	mb_ep=$1; shift
	mb_user=
	if [ -n "${ETCD_PASSWORD_FILE:-}" ]; then
		if [ "${ETCD_AS:-root}" = root ]; then
			mb_user=root:$(cat "$ETCD_DIR/root.pw")
		else
			mb_user=$ETCD_AS:$(cat "$ETCD_PASSWORD_FILE")
		fi
	fi
	# shellcheck disable=SC2086
	ETCDCTL_API=3 ETCDCTL_USER=$mb_user ETCDCTL_CERT=${ETCD_CERT:-} \
	ETCDCTL_KEY=${ETCD_KEY:-} timeout 30 etcdctl $mb_etcd_opts \
		--endpoints="$mb_ep" --cacert="$ETCD_CA" "$@"
}

mb_etcd_endpoint() { echo "https://127.0.0.1:$(eval echo "\$ETCD_PORT_$1")"; }

# mb_etcd_launch N: start node N (its data dir is reused if it exists).
mb_etcd_launch() {
	mb_n=$1
	mb_cluster=
	for mb_i in 1 2 3; do
		mb_url=https://127.0.0.1:$(eval echo "\$ETCD_PEER_$mb_i")
		mb_cluster=$mb_cluster${mb_cluster:+,}n$mb_i=$mb_url
	done
	mb_cp=$(eval echo "\$ETCD_PORT_$mb_n")
	mb_pp=$(eval echo "\$ETCD_PEER_$mb_n")
	mb_node=$ETCD_DIR/pki/node
	# --trusted-ca-file alone already makes etcd 3.4 require client
	# certificates: it is passed only with --client-cert.
	mb_ccert=
	[ -z "${ETCD_CERT:-}" ] || mb_ccert="--client-cert-auth
--trusted-ca-file=$ETCD_CA"
	# Our ETCD_* variables are not etcd's flags: keep them from it.
	# shellcheck disable=SC2086
	env -u ETCD_ENDPOINTS -u ETCD_CA -u ETCD_CERT -u ETCD_KEY \
		-u ETCD_USER -u ETCD_PASSWORD_FILE -u ETCD_DIR \
		etcd --name "n$mb_n" --data-dir "$ETCD_DIR/n$mb_n" \
		--logger zap --log-outputs stderr \
		--listen-client-urls "https://127.0.0.1:$mb_cp" \
		--advertise-client-urls "https://127.0.0.1:$mb_cp" \
		--listen-peer-urls "https://127.0.0.1:$mb_pp" \
		--initial-advertise-peer-urls "https://127.0.0.1:$mb_pp" \
		--initial-cluster "$mb_cluster" \
		--initial-cluster-token "mb-$$" \
		--cert-file "$mb_node.pem" --key-file "$mb_node.key" \
		--peer-cert-file "$mb_node.pem" --peer-key-file "$mb_node.key" \
		--peer-trusted-ca-file "$ETCD_CA" --peer-client-cert-auth \
		$mb_ccert >> "$ETCD_DIR/n$mb_n.log" 2>&1 < /dev/null &
	echo $! > "$ETCD_DIR/n$mb_n.pid"
	mb_watchdog "mb_kill_if $! $ETCD_DIR/n$mb_n"
}

# etcd_writes [ENDPOINTS]: a write (as root) through ENDPOINTS (default
# all) succeeds.  mb_etcd_healthy [ENDPOINTS]: ENDPOINTS (default all)
# answer health, and a write through them succeeds.
mb_etcd_probe=/mailbearer/.etcd-lib-probe
etcd_writes() {
	etcd_ctl_at "${1:-$ETCD_ENDPOINTS}" put "$mb_etcd_probe" x \
		>/dev/null 2>&1
}
mb_etcd_healthy() {
	etcd_ctl_at "${1:-$ETCD_ENDPOINTS}" endpoint health >/dev/null 2>&1 &&
		etcd_writes "${1:-}"
}

# etcd_cluster_start [--auth] [--client-cert]: see the top of this file.
# Returns non-zero (the nodes' logs as diagnostics) when the cluster has
# no leader answering a write within ETCD_TIMEOUT seconds.
etcd_cluster_start() {
	mb_auth=0 mb_cc=0
	for mb_a in "$@"; do
		case $mb_a in
		--auth) mb_auth=1 ;;
		--client-cert) mb_cc=1 ;;
		*) diag "etcd_cluster_start: unknown $mb_a"; return 1 ;;
		esac
	done
	[ -n "${MB_CA:-}" ] || start_ca || return 1
	ETCD_DIR=$(mktemp -d "$MB_TMP/etcd.XXXXXX") || return 1
	ETCD_CA=$MB_CA
	unset ETCD_CERT ETCD_KEY ETCD_PASSWORD_FILE ETCD_USER
	etcd_issue node "serverAuth, clientAuth" "/CN=localhost" \
		"IP:127.0.0.1, DNS:localhost" || return 1
	if [ "$mb_cc" = 1 ]; then
		etcd_issue client clientAuth "/O=mailbearer test client" ||
			return 1
		ETCD_CERT=$ETCD_DIR/pki/client.pem
		ETCD_KEY=$ETCD_DIR/pki/client.key
		export ETCD_CERT ETCD_KEY
	fi
	at_exit "etcd_cluster_stop '$ETCD_DIR'"
	mb_try=0
	while [ "$mb_try" -lt 3 ]; do
		mb_eps=
		for mb_i in 1 2 3; do
			eval "ETCD_PORT_$mb_i=\$(free_port)"
			eval "ETCD_PEER_$mb_i=\$(free_port)"
			mb_eps=${mb_eps:+$mb_eps,}$(mb_etcd_endpoint $mb_i)
		done
		ETCD_ENDPOINTS=$mb_eps
		export ETCD_ENDPOINTS ETCD_CA ETCD_DIR ETCD_PORT_1 ETCD_PORT_2 \
			ETCD_PORT_3
		for mb_i in 1 2 3; do mb_etcd_launch $mb_i; done
		etcd_wait "$ETCD_TIMEOUT" mb_etcd_healthy && break
		# most likely a port taken between free_port and bind: retry
		grep -l 'address already in use' "$ETCD_DIR"/n?.log \
			>/dev/null 2>&1 || { mb_etcd_fail; return 1; }
		etcd_cluster_stop
		mb_old=$ETCD_DIR/try$mb_try
		mkdir "$mb_old" && mv "$ETCD_DIR"/n? "$ETCD_DIR"/n?.* "$mb_old"
		mb_try=$((mb_try + 1))
	done
	[ "$mb_try" -lt 3 ] || { mb_etcd_fail; return 1; }
	[ "$mb_auth" = 0 ] || mb_etcd_auth || { mb_etcd_fail; return 1; }
}

mb_etcd_fail() {
	diag "etcd cluster: not up in $ETCD_TIMEOUT s"
	for mb_i in 1 2 3; do
		diag "--- node $mb_i:"; mb_diag_file "$ETCD_DIR/n$mb_i.log"
	done
}

# mb_etcd_pw FILE: a fresh random password in FILE (0600).
mb_etcd_pw() {
	( umask 077; openssl rand -hex 16 > "$1" )
}

# mb_etcd_auth: root, the role mailbearer (readwrite on the prefix
# /mailbearer/), the user mbuser, auth enabled.  Passwords go to etcdctl on
# stdin (--interactive=false), never in argv.
mb_etcd_auth() {
	mb_etcd_pw "$ETCD_DIR/root.pw" &&
	mb_etcd_pw "$ETCD_DIR/mbuser.pw" || return 1
	mb_log=$ETCD_DIR/auth.log
	{ etcd_ctl user add root --interactive=false < "$ETCD_DIR/root.pw" &&
	  etcd_ctl role add mailbearer &&
	  etcd_ctl role grant-permission mailbearer --prefix=true \
		readwrite /mailbearer/ &&
	  etcd_ctl user add mbuser --interactive=false \
		< "$ETCD_DIR/mbuser.pw" &&
	  etcd_ctl user grant-role mbuser mailbearer &&
	  etcd_ctl auth enable; } > "$mb_log" 2>&1 ||
		{ mb_diag_file "$mb_log"; return 1; }
	ETCD_USER=mbuser
	ETCD_PASSWORD_FILE=$ETCD_DIR/mbuser.pw
	export ETCD_USER ETCD_PASSWORD_FILE
	etcd_wait "$ETCD_TIMEOUT" etcd_writes
}

# etcd_node_stop N: SIGTERM to node N, waits (bounded) until it is gone.
etcd_node_stop() {
	stop_pid "$(cat "$ETCD_DIR/n$1.pid" 2>/dev/null)" 15
}

# etcd_node_start N: node N again on its data dir and ports; waits until
# it answers and the cluster takes a write through it.
etcd_node_start() {
	mb_etcd_launch "$1"
	etcd_wait "$ETCD_TIMEOUT" mb_etcd_healthy "$(mb_etcd_endpoint "$1")" ||
		{ diag "etcd node $1 not back:"
		  mb_diag_file "$ETCD_DIR/n$1.log"; return 1; }
}

# etcd_quorum_lost_wait: waits (bounded) until a write to the cluster
# fails; non-zero if writes still work after ETCD_TIMEOUT seconds.
etcd_quorum_lost_wait() {
	etcd_wait "$ETCD_TIMEOUT" mb_etcd_write_fails
}
mb_etcd_write_fails() { ! etcd_writes; }

# etcd_cluster_stop [DIR]: every node of the cluster in DIR (default
# $ETCD_DIR), by SIGKILL (its data is thrown away; a SIGTERM to all at once
# takes up to 15 s: the leader tries to hand over to peers that are going
# too).  etcd_cluster_start registers it for the exit.
etcd_cluster_stop() {
	mb_d=${1:-${ETCD_DIR:-}}
	[ -n "$mb_d" ] || return 0
	for mb_i in 1 2 3; do
		mb_p=$(cat "$mb_d/n$mb_i.pid" 2>/dev/null) || continue
		kill -KILL "$mb_p" 2>/dev/null
		wait "$mb_p" 2>/dev/null
	done
	return 0
}

# etcd_left: the etcd processes of this test still running (none: empty).
etcd_left() { pgrep -f -- "--data-dir $ETCD_DIR/n" || true; }
