# SPDX-License-Identifier: MIT
# Helpers for the fleet tests (store = etcd): several "hosts", each a
# configuration file and a `mailbearer serve` of its own, sharing one etcd
# cluster (tests/lib/etcd.sh) and one state key.  Source after tap.sh,
# servers.sh, token.sh and etcd.sh.

# fleet_setup [ETCD-ARGS...]: the CA, the mock provider, a 3-node TLS
# cluster and the fleet's key ($MB_STATE_KEY, 32 random bytes, 0600).
fleet_setup() {
	token_setup
	etcd_need
	etcd_cluster_start "$@" || bail_out "the etcd cluster did not start"
	MB_STATE_KEY=$MB_TMP/state.key
	( umask 077; head -c 32 /dev/urandom > "$MB_STATE_KEY" ) ||
		bail_out "no state key"
}

# fleet_conf FILE [EXTRA GLOBAL LINES]: a host's global part (with the
# cluster's user and client certificate when etcd_cluster_start made
# them: --auth, --client-cert).
fleet_conf() {
	{
		echo "store = etcd"
		echo "etcd_endpoints = $ETCD_ENDPOINTS"
		echo "etcd_ca_file = $ETCD_CA"
		echo "state_key_file = $MB_STATE_KEY"
		if [ -n "${ETCD_USER:-}" ]; then
			echo "etcd_user = $ETCD_USER"
			echo "etcd_password_file = $ETCD_PASSWORD_FILE"
		fi
		if [ -n "${ETCD_CERT:-}" ]; then
			echo "etcd_cert_file = $ETCD_CERT"
			echo "etcd_key_file = $ETCD_KEY"
		fi
		echo "${2:-}"
	} > "$1"
	chmod 600 "$1"
}

# fleet_hosts N ACCOUNT [PROVIDER [EXTRA ACCOUNT LINES]]: hosts 1..N, each
# $MB_TMP/hostI.conf with the account (its own state_dir, unused by the
# store), $MB_TMP/hostI.sock, $MB_TMP/hostI.log.
fleet_hosts() {
	fh_i=1
	while [ "$fh_i" -le "$1" ]; do
		fleet_conf "$MB_TMP/host$fh_i.conf"
		MB_ACCT_STATE_DIR=$MB_TMP/state$fh_i mb_conf_account \
			"$MB_TMP/host$fh_i.conf" "$2" "${3:-generic}" "${4:-}"
		fh_i=$((fh_i + 1))
	done
}

# fleet_mb I ARGS...: mb (token.sh) with host I's configuration.
fleet_mb() {
	fm_i=$1
	shift
	MB_CONF=$MB_TMP/host$fm_i.conf mb "$@"
}

# fleet_serve I [ARGS...]: host I's serve in the foreground, its pid in
# fleet_pid_I; true once its socket is there.
fleet_serve() {
	fs_i=$1
	shift
	"$MB_HELPER" --config "$MB_TMP/host$fs_i.conf" serve \
		--socket "$MB_TMP/host$fs_i.sock" --foreground "$@" \
		2> "$MB_TMP/host$fs_i.log" &
	eval "fleet_pid_$fs_i=$!"
	at_exit "stop_pid $!"
	wait_for 20 test -S "$MB_TMP/host$fs_i.sock"
}

# fleet_ask I ACCOUNT [N]: N clients (1) asking host I's serve for the
# account's token at once; their answers, one per line.
fleet_ask() {
	timeout 60 "$MB_PYTHON" "$top_srcdir/tests/fixtures/ipc-client.py" \
		"$MB_TMP/host$1.sock" "MAILBEARER1 TOKEN $2" \
		--parallel "${3:-1}"
}

# refreshes USER: the mock's count of refresh-token grants for USER.
refreshes() { mockctl count "users.$1.refresh"; }

# remember_mock_tokens: every refresh token the mock ever issued (rotated
# ones too) goes to $MB_TMP/secrets.
remember_mock_tokens() {
	mockctl accounts | "$MB_PYTHON" -c 'import json, sys
for a in json.load(sys.stdin).values():
    for r in a.get("refresh_tokens", []):
        print(r["token"])' >> "$MB_TMP/secrets"
}

# fleet_no_secrets NAME FILE...: no_secrets, each secret also looked for
# in base64 and base64url (as etcd's JSON shows bytes).
fleet_no_secrets() {
	fns_s=$MB_TMP/secrets
	cp "$fns_s" "$fns_s.plain"
	"$MB_PYTHON" -c 'import base64, sys
for line in open(sys.argv[1]):
    s = line.strip().encode()
    if s:
        print(base64.b64encode(s).decode().rstrip("="))
        print(base64.urlsafe_b64encode(s).decode().rstrip("="))' \
		"$fns_s.plain" >> "$fns_s"
	no_secrets "$@"
	mv "$fns_s.plain" "$fns_s"
}
