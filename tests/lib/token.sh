# SPDX-License-Identifier: MIT
# Helpers for the `mailbearer token` integration tests (source after
# tests/lib/tap.sh and tests/lib/servers.sh, once start_provider succeeded).

# token_setup: skip unless the helper is built, start the test CA and the
# mock provider (a provider that does not come up is a failure), and begin
# with an empty configuration $MB_CONF and empty files collecting stderr
# ($MB_TMP/all-stderr) and the secrets to look for ($MB_TMP/secrets).
token_setup() {
	need_helper
	need python3 openssl timeout
	start_ca || bail_out "tests/fixtures/ca.sh failed"
	if ! start_provider; then
		echo "Bail out! mock provider did not start"
		exit 1
	fi
	token_files
}

# token_files: the empty configuration $MB_CONF and the empty files
# collecting stderr and the secrets to look for (after e2e_setup, which
# starts the servers itself).
token_files() {
	MB_CONF=$MB_TMP/mailbearer.conf
	: > "$MB_CONF"
	: > "$MB_TMP/all-stderr"
	: > "$MB_TMP/secrets"
}

# token_servers_setup: for clients that take the token from `mailbearer
# token` (no libsasl2 plugin in their process, so no e2e_setup, which
# wants imtest and skips in the ASan build): as root, the test CA, the
# mock provider and a private Dovecot, and the empty files token_setup
# makes.
token_servers_setup() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (private Dovecot)"
	need dovecot doveadm python3 openssl timeout
	[ -x /usr/sbin/smtp-sink ] || need smtp-sink
	start_ca || bail_out "tests/fixtures/ca.sh failed"
	if ! start_provider; then
		echo "Bail out! mock provider did not start"
		exit 1
	fi
	if ! start_dovecot; then
		echo "Bail out! dovecot did not start"
		exit 1
	fi
	token_files
}

# mb_conf_account FILE ACCOUNT [PROVIDER [EXTRA LINES]]: append an account
# talking to the mock provider.  $MB_ACCT_TIMEOUT (seconds, default 2) and
# $MB_ACCT_STATE_DIR (default $MB_TMP/state) change those two keys.
mb_conf_account() {
	cat >> "$1" <<EOC
[$2]
provider = ${3:-generic}
token_endpoint = $MB_PROVIDER_URL/token
client_id = cid
ca_file = $MB_CA
state_dir = ${MB_ACCT_STATE_DIR:-$MB_TMP/state}
timeout = ${MB_ACCT_TIMEOUT:-2}
connect_timeout = 2
${4:-}
EOC
	chmod 600 "$1"
}

# mb ARGS: the helper with our configuration; stderr appended to
# $MB_TMP/all-stderr (checked for secrets at the end) and kept in
# $MB_TMP/err; stdout in $MB_TMP/out; returns the exit status.
mb() {
	if [ "$1" = status ] && [ -z "${MAILBEARER_SOCKET:-}" ]; then
		# status probes serve's socket: a private one that nothing
		# listens on, never the host's (an installed serve's)
		env -u XDG_RUNTIME_DIR MAILBEARER_SOCKET="$MB_TMP/no-serve.sock" \
			"$MB_HELPER" --config "$MB_CONF" "$@" \
			> "$MB_TMP/out" 2> "$MB_TMP/err"
	else
		"$MB_HELPER" --config "$MB_CONF" "$@" > "$MB_TMP/out" \
			2> "$MB_TMP/err"
	fi
	mb_rc=$?
	cat "$MB_TMP/err" >> "$MB_TMP/all-stderr"
	return $mb_rc
}

# st_get ACCOUNT FIELD: a field of the account's state file.
st_get() {
	"$MB_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = d.get(sys.argv[2])
print("" if v is None else (str(v).lower() if isinstance(v, bool) else v))' \
		"$MB_TMP/state/$1.json" "$2"
}

# st_set ACCOUNT FIELD PYTHON-EXPR: "time passes" (e.g. expires_at to
# now + 100); the file keeps its 0600 mode.
st_set() {
	"$MB_PYTHON" -c 'import json, sys, time, os
p = sys.argv[1]
d = json.load(open(p))
d[sys.argv[2]] = eval(sys.argv[3], {"now": int(time.time())})
with open(p + ".t", "w") as f:
    json.dump(d, f)
os.chmod(p + ".t", 0o600)
os.rename(p + ".t", p)' "$MB_TMP/state/$1.json" "$2" "$3"
}

# time_left ACCOUNT SECONDS: "time passes": the access token (obtained an
# hour before it expires) now has SECONDS left (negative: expired).
time_left() {
	st_set "$1" expires_at "now + $2" &&
		st_set "$1" last_refresh "now + $2 - 3600"
}

# no_secrets NAME FILE...: one assertion that no line of $MB_TMP/secrets
# appears in any FILE (a missing one is named and skipped); each leak is
# named.  Fails when no secret was remembered or no FILE exists.
no_secrets() {
	ns_name=$1; shift
	ns_leaks=0
	ns_n=$(grep -c . "$MB_TMP/secrets" 2>/dev/null)
	ns_files=0
	for ns_f in "$@"; do
		[ -f "$ns_f" ] || { diag "no_secrets: no file $ns_f"; continue; }
		ns_files=$((ns_files + 1))
		while read -r ns_s; do
			[ -n "$ns_s" ] || continue
			if grep -qF -- "$ns_s" "$ns_f"; then
				ns_leaks=$((ns_leaks + 1))
				diag "a secret in $ns_f"
			fi
		done < "$MB_TMP/secrets"
	done
	# Nothing to look for, or nowhere to look, proves nothing: a failure.
	[ "${ns_n:-0}" -gt 0 ] ||
		diag "no_secrets: no secret remembered (remember_secret)"
	[ "$ns_files" -gt 0 ] || diag "no_secrets: none of the files exists"
	check "$ns_name" test "$ns_leaks" = 0 -a "${ns_n:-0}" -gt 0 \
		-a "$ns_files" -gt 0
}

# remember_state_tokens DIR: every access and refresh token in the state
# files of DIR goes to $MB_TMP/secrets.
remember_state_tokens() {
	for rst_f in "$1"/*.json; do
		[ -f "$rst_f" ] || continue
		"$MB_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for k in ("access_token", "refresh_token"):
    if d.get(k):
        print(d[k])' "$rst_f" >> "$MB_TMP/secrets"
	done
}

# remember_secret VALUE: checked absent from all stderr output at the end.
remember_secret() { printf '%s\n' "$1" >> "$MB_TMP/secrets"; }

# mb_sa_key NAME EMAIL KID [KEYFILE]: a Google service account's JSON key
# for EMAIL, key id KID, in $MB_TMP/NAME.json (mode 0600), with the RSA
# key $MB_TMP/NAME.key (made unless KEYFILE is given) and its public key
# $MB_TMP/NAME.pub (for `mockctl sa`); token_uri is the mock's.
mb_sa_key() {
	k=${4:-$MB_TMP/$1.key}
	[ -f "$k" ] || openssl genpkey -algorithm RSA \
		-pkeyopt rsa_keygen_bits:2048 -out "$k" 2> /dev/null
	openssl pkey -in "$k" -pubout -out "$MB_TMP/$1.pub" 2> /dev/null
	"$MB_PYTHON" - "$k" "$2" "$3" "$MB_PROVIDER_URL/token" \
		> "$MB_TMP/$1.json" <<'PY'
import json, sys
key, email, kid, uri = sys.argv[1:5]
print(json.dumps({"type": "service_account", "project_id": "mb-test",
                  "private_key_id": kid, "private_key": open(key).read(),
                  "client_email": email, "client_id": "1234567890",
                  "token_uri": uri}, indent=2))
PY
	chmod 600 "$MB_TMP/$1.json"
}

# mb_account USER [MOCKCTL-ARGS...]: USER's account at the mock provider
# (mockctl account ARGS) and in $MB_CONF (with the lines of
# $MB_ACCT_EXTRA, if set), its refresh token ($rt, remembered as a secret)
# imported; one assertion.
mb_account() {
	mba_u=$1
	shift
	mb_conf_account "$MB_CONF" "$mba_u" generic "${MB_ACCT_EXTRA:-}"
	rt=$(mockctl account "$mba_u" --client-id cid "$@")
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import "$mba_u"
	ok $? "import the refresh token"
}

# start_serve [ARGS...]: `mailbearer serve` of $MB_CONF, with ARGS, on
# $SOCK ($MB_TMP/serve.sock; exported as MAILBEARER_SOCKET for the plugin
# and the clients), its log in $MB_TMP/serve.log, its pid in $spid,
# stopped at exit; true once the socket is there (at most 20 s).
start_serve() {
	SOCK=$MB_TMP/serve.sock
	MAILBEARER_SOCKET=$SOCK
	export MAILBEARER_SOCKET
	"$MB_HELPER" --config "$MB_CONF" serve --socket "$SOCK" --foreground \
		"$@" 2> "$MB_TMP/serve.log" &
	spid=$!
	at_exit "stop_pid $spid"
	wait_for 20 test -S "$SOCK"
}

# app_only_logins WHAT ACCOUNT2 HOW: for an app-only account named after the
# mailbox $user and a second one ACCOUNT2 acting as $user, both served by
# start_serve: imtest XOAUTH2 with an empty password, imtest OAUTHBEARER
# with mailbearer:ACCOUNT2 and smtptest XOAUTH2 all authenticate without
# a new token request (requests() counts them); then the provider expires
# the token, Dovecot rejects it, serve is told and makes exactly one new
# request, and the next login is accepted; serve's log says the token
# was "obtained with the HOW"; serve stops on SIGTERM, and no secret is in
# its log, the plugin's or the provider's.  WHAT names the token in the
# test lines ("an app-only token").  No refresh token at any point.
app_only_logins() {
	aol_cmds='a1 SELECT INBOX
a2 LOGOUT'
	n0=$(requests)
	aol_imap "$MB_TMP/i1" XOAUTH2 ""
	contains "IMAP XOAUTH2 with $1: authenticated" \
		"$MB_TMP/i1" '^Authenticated\.'
	contains "... mailbox usable" "$MB_TMP/i1" '^a1 OK \[READ-WRITE\]'
	aol_imap "$MB_TMP/i2" OAUTHBEARER "mailbearer:$2"
	contains "IMAP OAUTHBEARER, mailbearer:$2: authenticated" \
		"$MB_TMP/i2" '^Authenticated\.'
	sasl_client "$MB_TMP/s1" smtptest "$MB_SUBMISSION_PORT" XOAUTH2 \
		"$user" "" 'QUIT'
	contains "SMTP XOAUTH2 with $1: authenticated" "$MB_TMP/s1" '235 '
	check "three logins, no new request (served from memory)" \
		test "$(requests)" = "$n0"
	remember_secret "$(st_get "$user" access_token)"
	remember_secret "$(st_get "$2" access_token)"
	check "the state holds no refresh token" \
		test -z "$(st_get "$user" refresh_token)"

	# The provider expires the access token: Dovecot rejects it, serve
	# asks for a new one at once, once.
	mockctl expire "$user" --what access > /dev/null
	aol_imap "$MB_TMP/i3" XOAUTH2 ""
	contains "expired token: tagged NO" "$MB_TMP/i3" \
		'A01 NO \[AUTHENTICATIONFAILED\]'
	check "serve was told about the rejection" \
		wait_for 10 grep -q 'rejected the current token' \
		"$MB_TMP/serve.log"
	check "... and made a new token request" wait_for 10 aol_more
	n1=$(requests)
	aol_imap "$MB_TMP/i4" XOAUTH2 ""
	contains "next login: authenticated with a new token" \
		"$MB_TMP/i4" '^Authenticated\.'
	check "... exactly one request in all" \
		test "$(requests)" = "$n1" -a "$n1" = $((n0 + 1))
	remember_secret "$(st_get "$user" access_token)"
	contains "serve's log says how the token was obtained" \
		"$MB_TMP/serve.log" "obtained with the $3"
	kill -TERM "$spid"
	check "serve stopped" wait_for 20 sh -c "! kill -0 $spid"
	no_secrets "no secret or token in serve's, the plugin's or the provider's log" \
		"$MB_TMP/serve.log" "$MB_TMP"/i*.syslog "$MB_TMP"/s*.syslog \
		"$MB_PROVIDER_LOG"
}
aol_imap() {
	sasl_client "$1" imtest "$MB_IMAP_PORT" "$2" "$user" "$3" "$aol_cmds"
}
aol_more() { [ "$(requests)" -ge $((n0 + 1)) ]; }

# token_burst NAME ACCOUNT: $N concurrent `mailbearer token ACCOUNT`
# calls, each bounded, their results in $MB_TMP/runs-NAME/; checks that
# all finished with exit 0 and the same token, the one stored.
token_burst() {
	tb_d=$MB_TMP/runs-$1
	mkdir "$tb_d"
	tb_i=0
	tb_pids=
	while [ "$tb_i" -lt "$N" ]; do
		( timeout 120 "$MB_HELPER" --config "$MB_CONF" token "$2" \
			> "$tb_d/$tb_i.out" 2> "$tb_d/$tb_i.err"
		  echo $? > "$tb_d/$tb_i.rc" ) &
		tb_pids="$tb_pids $!"
		tb_i=$((tb_i + 1))
	done
	for tb_p in $tb_pids; do
		wait "$tb_p"
	done
	check "$1: all $N calls finished" \
		test "$(ls "$tb_d" | grep -c '\.rc$')" = "$N"
	check "$1: all exited 0" test "$(cat "$tb_d"/*.rc | sort -u)" = 0
	check "$1: all got the same token" \
		test "$(cat "$tb_d"/*.out | sort -u | wc -l)" = 1
	check "$1: it is the stored one" \
		test "$(st_get "$2" access_token)" = "$(cat "$tb_d/0.out")"
}
