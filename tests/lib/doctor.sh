# SPDX-License-Identifier: MIT
# Helpers for the `mailbearer doctor` tests (source after tests/lib/tap.sh,
# tests/lib/servers.sh and tests/lib/token.sh).

# postconf and postmap live in /usr/sbin.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin; export PATH ;; esac

# doc_account ACCOUNT: an account at the mock provider with a refresh
# token imported (the refresh token is remembered as a secret); Postfix's
# smtp(8) is allowed to use it when there is a postfix user.
doc_account() {
	doc_allow=
	id postfix > /dev/null 2>&1 && doc_allow="allow = postfix"
	mb_conf_account "$MB_CONF" "$1" generic "$doc_allow"
	doc_rt=$(mockctl account "$1" --client-id cid)
	remember_secret "$doc_rt"
	printf '%s\n' "$doc_rt" | mb import "$1"
}

# doc_serve: `mailbearer serve` on $SOCK (socket mode 0666 so that another
# uid can be refused by serve itself, not by the file system).
doc_serve() {
	SOCK=$MB_TMP/serve.sock
	"$MB_HELPER" --config "$MB_CONF" serve --socket "$SOCK,mode=0666" \
		--foreground 2> "$MB_TMP/serve.log" &
	doc_spid=$!
	at_exit "stop_pid $doc_spid"
	wait_for 20 test -S "$SOCK"
}

# doc_postfix DIR: a private Postfix configuration that suits a bearer
# token (relayhost entry, filter, TLS, smtp not chrooted and the socket
# passed through import_environment).  Only postconf/postmap read it.
doc_postfix() {
	mkdir -p "$1/queue"
	cat > "$1/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $1/queue
relayhost = [127.0.0.1]:2525
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = texthash:$1/sasl_passwd
smtp_sasl_mechanism_filter = xoauth2
smtp_tls_security_level = secure
smtp_sasl_tls_security_options = noanonymous
import_environment = MAIL_CONFIG MAILBEARER_SOCKET=${SOCK:-/nonexistent}
EOC
	printf 'smtp unix - - n - - smtp\n' > "$1/master.cf"
	printf '[127.0.0.1]:2525 alice@example.com:\n' > "$1/sasl_passwd"
}

# doctor ARGS: the doctor with our configuration; stdout in
# $MB_TMP/doc.out (shown as diagnostics), stderr collected; the status.
doctor() {
	"$MB_HELPER" --config "$MB_CONF" doctor "$@" > "$MB_TMP/doc.out" \
		2> "$MB_TMP/doc.err"
	doc_rc=$?
	cat "$MB_TMP/doc.out" "$MB_TMP/doc.err" >> "$MB_TMP/all-stderr"
	diag_stdin < "$MB_TMP/doc.out"
	return $doc_rc
}

# doc_line RESULT NAME [REGEX]: a line "RESULT NAME: ..." matching REGEX.
doc_line() {
	grep -E -- "^$1 $2: ${3:-}" "$MB_TMP/doc.out" > /dev/null
}

# doc_no_secret: no remembered secret in anything the doctor printed.
doc_no_secret() {
	! grep -F -f "$MB_TMP/secrets" "$MB_TMP/all-stderr" > /dev/null
}
