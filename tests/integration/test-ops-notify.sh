#!/bin/sh
# notify = COMMAND: run once per transition (needs-authorize, failing
# after notify_after, recovered), from one-shot `token` and from serve,
# never twice for one transition between them; a clean environment with
# no secret; one per account and event per hour; the global part of the
# configuration; a failing command logged, never fatal.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup
N=$MB_TMP/n
mkdir -p "$N"
# The command: one line per run, and its whole environment.
cmd="echo \"\$MAILBEARER_ACCOUNT \$MAILBEARER_EVENT\" >> $N/events; env > $N/env.\$MAILBEARER_ACCOUNT.\$MAILBEARER_EVENT"
cat > "$MB_CONF" <<EOC
# the global part: before the first [account]
notify = $cmd
notify_after = 0
EOC
mb_conf_account "$MB_CONF" a@example.com generic "client_secret = a-secret-123"
mb_conf_account "$MB_CONF" f@example.com
mb_conf_account "$MB_CONF" slow@example.com generic "notify_after = 3600"
mb_conf_account "$MB_CONF" off@example.com generic "notify ="
mb_conf_account "$MB_CONF" bad@example.com generic "notify = echo oops-from-notify >&2; exit 3"
mb_conf_account "$MB_CONF" s@example.com
mb_conf_account "$MB_CONF" c@example.com generic "client_secret = wrong-secret-456"
remember_secret wrong-secret-456
remember_secret a-secret-123
events() { grep -c "^$1 $2\$" "$N/events" 2>/dev/null || true; }
# the detached command runs after `token` returns: wait for its line
has() { test "$(events "$1" "$2")" = "$3"; }
fired() { wait_for 10 has "$@"; }
quiet() { sleep 1; test "$(events "$1" "$2")" = "$3"; }
setup() {
	rt=$(mockctl account "$1" --client-id cid ${2:-})
	remember_secret "$rt"
	printf '%s\n' "$rt" | mb import "$1"
}

# --- the grant dies: needs-authorize, once ---
setup a@example.com "--client-secret a-secret-123"
mb token a@example.com
remember_secret "$(cat "$MB_TMP/out")"
check "working account: nothing sent" test ! -e "$N/events"
mockctl revoke a@example.com --what refresh > /dev/null
time_left a@example.com -5
mb token a@example.com
check "dead grant: token exits 77" test "$mb_rc" = 77
fired a@example.com needs-authorize 1
ok $? "needs-authorize sent"
env_file=$N/env.a@example.com.needs-authorize
contains "MAILBEARER_ACCOUNT" "$env_file" '^MAILBEARER_ACCOUNT=a@example\.com$'
contains "MAILBEARER_EVENT" "$env_file" '^MAILBEARER_EVENT=needs-authorize$'
contains "MAILBEARER_REASON says why" "$env_file" \
	'^MAILBEARER_REASON=.*(refused|revoked|invalid_grant)'
contains "PATH is a fixed one" "$env_file" '^PATH=/usr/local/sbin:'
others=$(sed -n 's/=.*//p' "$env_file" | grep -Ev \
	'^(PATH|HOME|MAILBEARER_ACCOUNT|MAILBEARER_EVENT|MAILBEARER_REASON|PWD|OLDPWD|SHLVL|_)$' |
	tr '\n' ' ')
check "nothing else in the environment (got: ${others:-none})" \
	test -z "$others"
lacks "not the test's environment" "$env_file" '^(MB_TMP|MB_CONF|top_srcdir)='
leaks=0
while read -r s; do
	[ -n "$s" ] || continue
	grep -qF -- "$s" "$env_file" && leaks=$((leaks + 1))
done < "$MB_TMP/secrets"
check "no secret in the environment" test "$leaks" = 0
mb token a@example.com
quiet a@example.com needs-authorize 1
ok $? "still dead: not sent again"
check "the transition is kept in <account>.notify" \
	grep -q '^attention=needs-authorize$' "$MB_TMP/state/a@example.com.notify"
lacks "the notify file holds no epoch" \
	"$MB_TMP/state/a@example.com.notify" '=[0-9]{9,}$'

# --- back to work: recovered ---
setup a@example.com "--client-secret a-secret-123"
mb token a@example.com
remember_secret "$(cat "$MB_TMP/out")"
check "re-imported: token exits 0" test "$mb_rc" = 0
fired a@example.com recovered 1
ok $? "recovered sent"
mb token a@example.com
quiet a@example.com recovered 1
ok $? "still fine: not sent again"

# --- dead again within the hour: rate-limited ---
mockctl revoke a@example.com --what refresh > /dev/null
time_left a@example.com -5
mb token a@example.com
quiet a@example.com needs-authorize 1
ok $? "second needs-authorize within the hour: not sent"
contains "the suppression is logged" "$MB_TMP/err" \
	'needs-authorize: not notified again .*one an hour'
contains "with an ISO 8601 time" "$MB_TMP/err" \
	'ran at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'

# --- failing refreshes: at once with notify_after = 0 (global) ---
setup f@example.com
setup slow@example.com
setup off@example.com
mockctl fault token 503 --count 30 > /dev/null
for a in f slow off; do
	mb token $a@example.com
done
check "provider down: token exits 75" test "$mb_rc" = 75
fired f@example.com failing 1
ok $? "failing sent (notify_after = 0)"
contains "the reason says since when" "$N/env.f@example.com.failing" \
	'^MAILBEARER_REASON=refreshes have failed since [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z: .*503'
quiet slow@example.com failing 0
ok $? "notify_after = 3600: not yet"
check "off: an empty notify turns the global one off" \
	test "$(events off@example.com failing)" = 0
mockctl reset faults > /dev/null
mb token f@example.com
remember_secret "$(cat "$MB_TMP/out")"
fired f@example.com recovered 1
ok $? "provider back: recovered"
mb token slow@example.com
remember_secret "$(cat "$MB_TMP/out")"
quiet slow@example.com recovered 0
ok $? "never notified as failing: no recovered either"

# --- the client is refused (a wrong secret): client-refused ---
setup c@example.com "--client-secret right-secret-789"
remember_secret right-secret-789
mb token c@example.com
check "wrong client secret: token exits 77" test "$mb_rc" = 77
fired c@example.com client-refused 1
ok $? "client-refused sent"
contains "its reason names the client" "$N/env.c@example.com.client-refused" \
	'^MAILBEARER_REASON=.*client'

# --- serve: notifies from its refresh workers, once with one-shots ---
setup s@example.com
setup bad@example.com
mockctl revoke s@example.com --what refresh > /dev/null
mockctl revoke bad@example.com --what refresh > /dev/null
sock=$MB_TMP/s.sock
"$MB_HELPER" --config "$MB_CONF" serve --foreground --socket "$sock" \
	2> "$MB_TMP/serve.err" &
spid=$!
at_exit "kill $spid 2>/dev/null"
fired s@example.com needs-authorize 1
ok $? "serve: needs-authorize sent from its token check"
wait_for 10 grep -q 'notify (needs-authorize) failed with exit status 3' \
	"$MB_TMP/serve.err"
ok $? "serve: a failing command is logged"
contains "... with its output" "$MB_TMP/serve.err" \
	'failed with exit status 3: oops-from-notify'
check "serve: still running" kill -0 $spid
mb token s@example.com
quiet s@example.com needs-authorize 1
ok $? "one-shot after serve: not sent twice"
kill $spid
wait $spid 2>/dev/null
cat "$MB_TMP/serve.err" >> "$MB_TMP/all-stderr"

leaks=0
while read -r s; do
	[ -n "$s" ] || continue
	grep -qF -- "$s" "$MB_TMP/all-stderr" && leaks=$((leaks + 1))
done < "$MB_TMP/secrets"
check "no secret on stderr" test "$leaks" = 0
done_testing
