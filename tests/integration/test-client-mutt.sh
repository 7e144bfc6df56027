#!/bin/sh
# SPDX-License-Identifier: MIT
# mutt, the real binary, with its built-in XOAUTH2 and OAUTHBEARER and
# imap_oauth_refresh_command / smtp_oauth_refresh_command =
# "mailbearer token ACCOUNT", against the private Dovecot (STARTTLS with
# the test CA, host localhost):
#   batch send (mutt -s ... < body, no terminal) through submission;
#   reading INBOX over IMAP under script(1) (mutt needs a terminal): the
#   login succeeds and the message list shows the message's subject.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
need_helper
need mutt
token_servers_setup

user=alice@example.com
mb_account "$user"
refreshes() { mockctl count "users.$user.refresh"; }

HOME=$MB_TMP/home
export HOME
mkdir -p "$HOME"
cmd="'$MB_HELPER' --config '$MB_CONF' token $user"
# muttrc FILE MECH: a mutt configuration.
muttrc() {
	cat > "$1" <<EOC
set from = "$user"
set realname = "Alice"
set record = ""
set postponed = ""
set ssl_starttls = yes
set ssl_force_tls = yes
set ssl_ca_certificates_file = "$MB_CA"
set certificate_file = "$HOME/certificates"
set smtp_url = "smtp://alice%40example.com@localhost:$MB_SUBMISSION_PORT/"
set smtp_authenticators = "$2"
set smtp_oauth_refresh_command = "$cmd"
set imap_user = "$user"
set imap_authenticators = "$2"
set imap_oauth_refresh_command = "$cmd"
set folder = "imap://localhost:$MB_IMAP_PORT/"
set spoolfile = "+INBOX"
set mail_check = 60
set timeout = 5
set connect_timeout = 10
set header_cache = ""
set message_cachedir = ""
set move = no
set sort = date
EOC
}

up() { echo "$1" | tr a-z A-Z; }
n=0
for mech in xoauth2 oauthbearer; do
	muttrc "$MB_TMP/rc-$mech" "$mech"
	n=$((n + 1))
	printf 'body of m%s\n' "$n" > "$MB_TMP/body$n"
	timeout 60 mutt -n -F "$MB_TMP/rc-$mech" -s "subject m$n" \
		-- "$user" < "$MB_TMP/body$n" > "$MB_TMP/send$n" 2>&1
	ok $? "mutt batch send, smtp_authenticators=$mech: exit 0"
	contains "... Dovecot logged the $mech login" "$MB_DOVECOT_LOG" \
		"submission-login: Info: Login: user=<$user>, method=$(
		up "$mech")"
done
check "one refresh for everything so far" test "$(refreshes)" = 1
remember_secret "$(st_get "$user" access_token)"

# Dovecot's submission relays to the sink, not to the mailbox: put a
# message into INBOX for mutt to read.
MAILDIR=$MB_DOVECOT_DIR/mail/$user
mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
printf 'From: a@example.com\nTo: %s\nSubject: inbox-m9\n\nbody\n' "$user" \
	> "$MAILDIR/new/1.mb9.localhost"
chown -R dovecot:dovecot "$MAILDIR"

if command -v script >/dev/null 2>&1; then
	for mech in xoauth2 oauthbearer; do
		TERM=vt100 COLUMNS=120 LINES=30 timeout 60 script -qec \
			"mutt -n -F '$MB_TMP/rc-$mech' -e 'push <quit>'" \
			/dev/null < /dev/null > "$MB_TMP/read-$mech" 2>&1
		ok $? "mutt reads INBOX over IMAP, $mech: exit 0"
		contains "... the message list shows the message" \
			"$MB_TMP/read-$mech" 'inbox-m9'
		contains "... Dovecot logged the $mech login" \
			"$MB_DOVECOT_LOG" "imap-login: Info: Login: \
user=<$user>, method=$(up "$mech")"
	done
	# Forced expiry: the refresh command refreshes, mutt logs in.
	time_left "$user" -5
	TERM=vt100 timeout 60 script -qec \
		"mutt -n -F '$MB_TMP/rc-xoauth2' -e 'push <quit>'" \
		/dev/null < /dev/null > "$MB_TMP/read-exp" 2>&1
	contains "token expired: mutt reads INBOX" "$MB_TMP/read-exp" \
		'inbox-m9'
	check "token expired: one more refresh" test "$(refreshes)" = 2
	remember_secret "$(st_get "$user" access_token)"
else
	skip "no script(1): mutt needs a terminal to read a folder"
fi

no_secrets "no token in mutt's output or mailbearer's stderr" \
	"$MB_TMP"/send* "$MB_TMP"/read-* "$MB_TMP/all-stderr"
done_testing
