# SPDX-License-Identifier: MIT
# mbsync steps of the client tests (sourced after tap.sh and servers.sh;
# $user is the IMAP login, $MB_IMAP_PORT and $MB_CA the private Dovecot's).

# mbrc FILE LOCAL LINES: an mbsync configuration syncing INBOX of $user's
# mailbox on the private Dovecot (STARTTLS, the test CA) into the maildir
# LOCAL; LINES (one or more lines: Pass/PassCmd, AuthMechs) follow User.
mbrc() {
	mkdir -p "$2"
	cat > "$1" <<EOC
IMAPAccount acct
Host localhost
Port $MB_IMAP_PORT
User $user
$3
SSLType STARTTLS
SystemCertificates no
CertificateFile $MB_CA

IMAPStore remote
Account acct

MaildirStore local
Path $2/
Inbox $2/INBOX
SubFolders Verbatim

Channel ch
Far :remote:
Near :local:
Patterns INBOX
Create Near
SyncState *
EOC
}

# sync_run OUT RC [FLAG]: mbsync (bounded) with configuration RC, its
# transcript (FLAG: -V, or -Dn for the IMAP traffic) in OUT and the
# plugin's syslog lines in OUT.syslog; its exit status in $sync_rc.
sync_run() {
	: > "$1.syslog"
	MB_SYSLOG_FILE=$1.syslog LD_PRELOAD=$MB_SYSLOG_SHIM \
		timeout 60 mbsync -c "$2" "${3:--V}" ch < /dev/null > "$1" 2>&1
	sync_rc=$?
}

# has LOCAL N: message N arrived in the maildir LOCAL.
has() { grep -rqs "body of m$2" "$1/INBOX"; }
