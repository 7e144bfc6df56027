#!/bin/sh
# SPDX-License-Identifier: MIT
# A fleet of three hosts and a 3-node TLS etcd cluster losing nodes.  One
# node stopped: nothing changes (a refresh is made, every host serves
# it).  Two stopped (no quorum): every host keeps serving the token valid
# by the clock, the strictly rotating account is not refreshed (a fork of
# the grant would lose it) and the logs say why, while a Google account
# refreshes alone (Google does not rotate refresh tokens).  The nodes
# back: the rotating account is refreshed without restarting anything.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/etcd.sh"
. "$top_srcdir/tests/lib/fleet.sh"
fleet_setup
u=q@example.com
g=gq@example.com
# 60-s tokens: due after 30 s, served from memory while 10 s are left
rt=$(mockctl account "$u" --client-id cid --rotation strict --access-ttl 60)
rg=$(mockctl account "$g" --client-id cid --access-ttl 60)
remember_secret "$rt"
remember_secret "$rg"
fleet_hosts 3 "$u" generic "rotation = strict"
for i in 1 2 3; do
	MB_ACCT_STATE_DIR=$MB_TMP/state$i mb_conf_account \
		"$MB_TMP/host$i.conf" "$g" google
done
printf '%s\n' "$rt" | fleet_mb 1 import "$u"
ok $? "import the rotating account"
printf '%s\n' "$rg" | fleet_mb 2 import "$g"
ok $? "import the Google account"
for i in 1 2 3; do
	fleet_serve "$i"
	ok $? "host $i: serve started"
done
served() {	# served HOST ACCOUNT: the token host HOST serves, or nothing
	fleet_ask "$1" "$2" | sed -n 's/^MAILBEARER1 OK [0-9]* //p'
}
t1=$(served 1 "$u")
check "a first token" test -n "$t1"
remember_secret "$t1"
check "every host serves it" \
	test "$(served 2 "$u")" = "$t1" -a "$(served 3 "$u")" = "$t1"
check "one refresh request" test "$(refreshes "$u")" = 1
served 1 "$g" > /dev/null
# steady load: every poll below asks every host for both accounts (serve
# refreshes ahead only a token in use)
load() {
	for l_i in 1 2 3; do
		fleet_ask "$l_i" "$u" > /dev/null
		fleet_ask "$l_i" "$g" > /dev/null
	done
}

# One node of three stopped: the next refresh happens as before.
etcd_node_stop 3
ok $? "node 3 stopped"
more() { load; [ "$(refreshes "$1")" -ge "$2" ]; }
check "one node down: the next refresh is made (one)" wait_for 60 more "$u" 2
t2=$(served 1 "$u")
remember_secret "$t2"
check "... a new token, served by every host" test "$t2" != "$t1" -a \
	"$(served 2 "$u")" = "$t2" -a "$(served 3 "$u")" = "$t2"
check "... one refresh, not one per host" test "$(refreshes "$u")" = 2
g2=$(refreshes "$g")

# Two nodes stopped: no quorum.
etcd_node_stop 2
ok $? "node 2 stopped: one node of three left"
said() { load; grep -q "no refresh is made without the cluster" \
	"$MB_TMP/host$1.log"; }
check "no quorum: host 1 says it refreshes nothing that rotates" \
	wait_for 60 said 1
check "... so do hosts 2 and 3" wait_for 20 sh -c \
	"grep -q 'no refresh is made without the cluster' '$MB_TMP/host2.log' &&
	 grep -q 'no refresh is made without the cluster' '$MB_TMP/host3.log'" ||
	tail -n 5 "$MB_TMP/host2.log" "$MB_TMP/host3.log" | cut -c1-300 |
	diag_stdin
check "... and no refresh request was made for the rotating account" \
	test "$(refreshes "$u")" = 2
check "... while every host still serves the valid token" \
	test "$(served 1 "$u")" = "$t2" -a "$(served 2 "$u")" = "$t2" -a \
	"$(served 3 "$u")" = "$t2"
contains "... the log names etcd as the cause" "$MB_TMP/host1.log" \
	"etcd"
check "the Google account refreshes alone" wait_for 60 more "$g" $((g2 + 1))
contains "... and says why it may" "$MB_TMP/host1.log" \
	"Google does not rotate refresh tokens"

# The nodes come back: refreshing resumes by itself.
etcd_node_start 2
ok $? "node 2 back"
etcd_node_start 3
ok $? "node 3 back"
check "quorum back: the rotating account is refreshed without a restart" \
	wait_for 60 more "$u" 3
t3=$(served 1 "$u")
remember_secret "$t3"
check "... a new token, served by every host" test "$t3" != "$t2" -a \
	"$(served 2 "$u")" = "$t3" -a "$(served 3 "$u")" = "$t3"
check "... exactly one refresh for it" test "$(refreshes "$u")" = 3
check "the grant was never refused" \
	sh -c "! grep -qi 'invalid_grant' '$MB_TMP'/host[123].log"
for i in 1 2 3; do
	kill -TERM "$(eval echo "\$fleet_pid_$i")"
done
remember_mock_tokens
no_secrets "no token in any host's log" "$MB_TMP"/host[123].log
done_testing
