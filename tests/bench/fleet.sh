# SPDX-License-Identifier: MIT
# Sourced by tests/bench/run (BENCH_ONLY=fleet): the fleet (store = etcd,
# issue 14) against one host with the state files, in the same run.  A
# real 3-node TLS etcd cluster on 127.0.0.1 (tests/lib/etcd.sh), the mock
# provider with strict rotation, `mailbearer serve` processes as hosts
# (tests/lib/fleet.sh).  About four minutes.
#
#  f1 token-endpoint requests per token lifetime: 5 fleet hosts x 200
#     clients vs one files host x 200 clients, short tokens, N lifetimes
#     side by side; scaled to an account-hour of 300-s tokens
#  f2 time from the first host serving a new token to the last one, p99
#     over the refreshes of f1 (a poller asks every host every 20 ms)
#  f3 etcd writes per refresh: the cluster's revision over f1 / the
#     fleet's refreshes; and over K one-shot refreshes (`mailbearer token`)
#  f4 p99 from memory, a fleet host vs a files host, alternated, median
#     of 3
#
# Uses: row, kv, calc, verdict, say, diag, stop_pid, wait_for, at_exit,
# mockctl, $IPC, $bench_dir, $MB_TMP, $MB_HELPER, $MB_PYTHON.
. "$top_srcdir/tests/lib/etcd.sh"
. "$top_srcdir/tests/lib/fleet.sh"
POLL=$bench_dir/bench-fleet-poll.py
FL_HOSTS=5
FL_CLIENTS=200		# per host, each 1 request/s
FL_LIFE=24		# f's token lifetime: a refresh every W = 12 s
FL_N=10			# lifetimes measured
FL_WIN=$((FL_LIFE / 2))
FL_SPAN=$((FL_N * FL_WIN))
FL_K=10			# one-shot refreshes of f3
fu=f@example.com	# the fleet's account under load
su=s@example.com	# the files host's account under the same load

say "fleet: a 3-node TLS etcd cluster, the mock provider (strict rotation)"
fleet_setup
export MB_ACCT_TIMEOUT=5

# fl_import CONF ACCOUNT MOCK-ARGS...: a new account at the mock, imported
# with CONF (into etcd for a fleet configuration)
fl_import() {
	fi_conf=$1 fi_user=$2
	shift 2
	fi_rt=$(mockctl account "$fi_user" --client-id cid --rotation strict \
		"$@") && printf '%s\n' "$fi_rt" |
		MB_CONF=$fi_conf mb import "$fi_user" ||
		{ mb_diag_file "$MB_TMP/err"; bail_out "import $fi_user failed"; }
}
# fl_hosts_conf: host I of 1..5: f (24-s tokens, under load), p1 and p2
# (26 and 28 s: more refreshes for f2 and f3, at other phases)
i=1
while [ "$i" -le "$FL_HOSTS" ]; do
	fleet_conf "$MB_TMP/host$i.conf"
	for a in "$fu" p1@example.com p2@example.com; do
		MB_ACCT_STATE_DIR=$MB_TMP/state$i mb_conf_account \
			"$MB_TMP/host$i.conf" "$a" generic "rotation = strict"
	done
	i=$((i + 1))
done
# the files host: hosts.conf (fleet_serve s), no store keys
MB_ACCT_STATE_DIR=$MB_TMP/state-s mb_conf_account "$MB_TMP/hosts.conf" \
	"$su" generic "rotation = strict"
fl_import "$MB_TMP/host1.conf" "$fu" --access-ttl "$FL_LIFE"
fl_import "$MB_TMP/host1.conf" p1@example.com --access-ttl $((FL_LIFE + 2))
fl_import "$MB_TMP/host1.conf" p2@example.com --access-ttl $((FL_LIFE + 4))
fl_import "$MB_TMP/hosts.conf" "$su" --access-ttl "$FL_LIFE"

# etcd_stat: "REVISION RAFT-INDEX" of the cluster (the highest of the
# nodes': the leader's); a cluster that gives none ends the section
etcd_stat() {
	wait_for 10 mb_etcd_stat > "$MB_TMP/etcd-stat" ||
		{ mb_diag_file "$MB_TMP/etcd-stat.err"; return 1; }
	tail -n 1 "$MB_TMP/etcd-stat"
}
mb_etcd_stat() {
	etcd_ctl endpoint status -w json 2> "$MB_TMP/etcd-stat.err" |
		"$MB_PYTHON" -c 'import json, sys
st = [e["Status"] for e in json.load(sys.stdin)]
print(max(int(s["header"]["revision"]) for s in st),
      max(int(s["raftIndex"]) for s in st))' 2>> "$MB_TMP/etcd-stat.err"
}
# counts: "f s p1 p2" token-endpoint refresh requests so far
counts() {
	mockctl counters | "$MB_PYTHON" -c 'import json, sys
u = json.load(sys.stdin).get("users", {})
print(" ".join(str(u.get(n, {}).get("refresh", 0)) for n in sys.argv[1:]))' \
		"$fu" "$su" p1@example.com p2@example.com
}

# --- f1 + f2 + f3: requests per lifetime, propagation, writes ----------
say "f1. $FL_HOSTS fleet hosts x $FL_CLIENTS clients vs 1 files host x $FL_CLIENTS, $FL_LIFE-s tokens, $FL_N lifetimes"
for i in $(seq 1 "$FL_HOSTS") s; do
	fleet_serve "$i" || { mb_diag_file "$MB_TMP/host$i.log"
		bail_out "host $i: serve did not start"; }
done
# every host serves every account (the first tokens: one refresh each,
# made at start-up by whichever host took the lock)
served() { fleet_ask "$1" "$2" | grep -q '^MAILBEARER1 OK '; }
for i in $(seq 1 "$FL_HOSTS"); do
	for a in "$fu" p1@example.com p2@example.com; do
		wait_for 30 served "$i" "$a" ||
			{ mb_diag_file "$MB_TMP/host$i.log"
			  bail_out "host $i does not serve $a"; }
	done
done
wait_for 30 served s "$su" || bail_out "the files host does not serve $su"
c_first=$(counts)
diag "first tokens: f s p1 p2 refresh requests: $c_first"
# the load and the poller start half a window after the first tokens, so
# that the N due times of the span fall inside it whatever their drift
sleep "$(calc "$FL_WIN / 2")"
socks=
for i in $(seq 1 "$FL_HOSTS"); do
	socks=$socks${socks:+,}$MB_TMP/host$i.sock
	timeout $((FL_SPAN + 60)) "$IPC" -s "$MB_TMP/host$i.sock" -a "$fu" \
		-c "$FL_CLIENTS" -q 1 -r $((FL_SPAN + 10)) -d $((FL_SPAN + 2)) \
		-w 5000 > "$MB_TMP/load$i.out" 2> "$MB_TMP/load$i.err" &
	echo $! > "$MB_TMP/load$i.pid"
done
timeout $((FL_SPAN + 60)) "$IPC" -s "$MB_TMP/hosts.sock" -a "$su" \
	-c "$FL_CLIENTS" -q 1 -r $((FL_SPAN + 10)) -d $((FL_SPAN + 2)) \
	-w 5000 > "$MB_TMP/loads.out" 2> "$MB_TMP/loads.err" &
echo $! > "$MB_TMP/loads.pid"
timeout $((FL_SPAN + 60)) "$MB_PYTHON" "$POLL" --interval-ms 20 \
	--duration "$FL_SPAN" "f=$fu@$socks" "p1=p1@example.com@$socks" \
	"p2=p2@example.com@$socks" "s=$su@$MB_TMP/hosts.sock" \
	> "$MB_TMP/poll.out" 2> "$MB_TMP/poll.err" &
poll_pid=$!
# the counts at t0 and after each window; the cluster's revision and raft
# index at t0 and at the end (nothing but the fleet's refreshes writes)
t0=$(date +%s.%N)
c0=$(counts)
e0=$(etcd_stat) || bail_out "etcd gives no revision"
prev=$c0
perf= pers=
k=1
while [ "$k" -le "$FL_N" ]; do
	left=$(calc "max(0, $t0 + $k * $FL_WIN - $(date +%s.%N))")
	sleep "$left"
	cur=$(counts)
	perf="$perf $(calc "${cur%% *} - ${prev%% *}")"
	pers="$pers $(echo "$cur $prev" | awk '{ print $2 - $6 }')"
	prev=$cur
	k=$((k + 1))
done
e1=$(etcd_stat) || bail_out "etcd gives no revision"
c1=$cur
wait "$poll_pid"
for i in $(seq 1 "$FL_HOSTS") s; do
	wait "$(cat "$MB_TMP/load$i.pid")" 2> /dev/null
done
set -- $c0
f0=$1 s0=$2 p10=$3 p20=$4
set -- $c1
nf=$(($1 - f0)) ns=$(($2 - s0)) np1=$(($3 - p10)) np2=$(($4 - p20))
diag "f per window:$perf; s per window:$pers; p1 $np1, p2 $np2 in the span"
lerr=0 lreq=0
for i in $(seq 1 "$FL_HOSTS") s; do
	lreq=$((lreq + $(kv "$MB_TMP/load$i.out" requests)))
	lerr=$((lerr + $(kv "$MB_TMP/load$i.out" errors)))
done
p99s=$(for i in $(seq 1 "$FL_HOSTS"); do kv "$MB_TMP/load$i.out" p99_us; done |
	tr '\n' ' ')
diag "load: $lreq requests, $lerr errors; p99 per fleet host (us) $p99s; files host $(kv "$MB_TMP/loads.out" p99_us) us"
if [ "$ns" -gt 0 ]; then
	ratio=$(calc "'%.2f' % ($nf / $ns)")
	hour=$(calc "'%.0f' % (24 * $nf / $ns)")
else
	ratio=- hour=-
fi
row f1 "token-endpoint requests in $FL_N lifetimes ($FL_LIFE-s tokens, refresh every $FL_WIN s), $FL_HOSTS hosts x $FL_CLIENTS clients vs 1 host x $FL_CLIENTS: fleet / one host" \
	"= 1.00" "$nf / $ns = $ratio (per lifetime: fleet $(echo $perf | tr ' ' ,), one host $(echo $pers | tr ' ' ,); $lerr errors in $lreq requests)" \
	"$(verdict "$nf" = "$ns" -a "$lerr" = 0)"
row f1h "... per account-hour with 300-s tokens (24 x fleet / one host)" \
	"= one host's (24)" "$hour" "$(verdict "$nf" = "$ns")"

# every host starts a proactive refresh at the same due time; the lock
# lets one through to the provider, the others read its state
jobs=$(for i in $(seq 1 "$FL_HOSTS"); do
	grep -c 'proactive refresh' "$MB_TMP/host$i.log"; done | tr '\n' ' ')
made=$(for i in $(seq 1 "$FL_HOSTS"); do
	grep -c 'access token refreshed' "$MB_TMP/host$i.log"; done | tr '\n' ' ')
diag "whole run, per fleet host: proactive refresh jobs $jobs; token-endpoint requests made $made"

# f2: spreads of every new token seen on all 5 hosts, f, p1 and p2
spreads=$(for g in f p1 p2; do kv "$MB_TMP/poll.out" "$g.spreads_ms"; done |
	tr '\n' ' ')
ntok=0 ncomp=0
for g in f p1 p2; do
	ntok=$((ntok + $(kv "$MB_TMP/poll.out" "$g.tokens")))
	ncomp=$((ncomp + $(kv "$MB_TMP/poll.out" "$g.complete")))
done
diag "poller: $(kv "$MB_TMP/poll.out" rounds) rounds ($(kv "$MB_TMP/poll.out" late_rounds) late), errors f/p1/p2/s: $(kv "$MB_TMP/poll.out" f.errors)/$(kv "$MB_TMP/poll.out" p1.errors)/$(kv "$MB_TMP/poll.out" p2.errors)/$(kv "$MB_TMP/poll.out" s.errors); new tokens f $(kv "$MB_TMP/poll.out" f.tokens), s $(kv "$MB_TMP/poll.out" s.tokens)"
diag "spreads (ms): $spreads"
if [ "$ncomp" -gt 0 ]; then
	pct=$(calc "(lambda v: '%.0f / %.0f / %.0f' % (v[len(v) // 2], v[min(len(v) - 1, int(0.99 * (len(v) - 1) + 0.5))], v[-1]))(sorted([$(echo $spreads | tr ' ' ',')]))")
	p99=$(echo "$pct" | cut -d/ -f2 | tr -d ' ')
	row f2 "first host serving a new token to the last of $FL_HOSTS, p50 / p99 / max over $ncomp refreshes (poll every 20 ms)" \
		"p99 < 1 s" "$pct ms ($ncomp of $ntok new tokens seen on every host)" \
		"$(verdict "$p99" -lt 1000 -a "$ncomp" = "$ntok")"
else
	row f2 "first host serving a new token to the last" "p99 < 1 s" \
		"no refresh seen on every host ($ntok new tokens)" MISSED
fi

# f3: writes per refresh over f1: the cluster's revision counts the
# changes to keys (a transaction is one); its raft index counts every
# request the cluster commits, lease grants and revokes and transactions
# whose comparison failed included
set -- $e0
r0=$1 i0=$2
set -- $e1
nref=$((nf + np1 + np2))
raft_f1=-
if [ "$nref" -gt 0 ]; then
	raft_f1=$(calc "'%.2f' % (($2 - $i0) / $nref)")
	row f3 "etcd writes (revisions) per refresh over f1: $nref refreshes of 3 accounts on $FL_HOSTS hosts" \
		"<= 3" "$(calc "'%.2f' % (($1 - $r0) / $nref)")" \
		"$(verdict "$(calc "int(($1 - $r0) <= 3 * $nref)")" = 1)"
fi
for i in $(seq 1 "$FL_HOSTS") s; do
	stop_pid "$(eval echo "\$fleet_pid_$i")"
done
if grep -q 'lock ended' "$MB_TMP"/host[1-5].log; then
	diag "a host logged a lost lock:"
	grep -h 'lock ended' "$MB_TMP"/host[1-5].log | head -n 3 | diag_stdin
fi

# --- f3: K one-shot refreshes, nothing else writing -----------------------
say "f3. $FL_K one-shot refreshes (\`mailbearer token\`), one account each"
fleet_conf "$MB_TMP/hostk.conf"
k=1
while [ "$k" -le "$FL_K" ]; do
	MB_ACCT_STATE_DIR=$MB_TMP/statek mb_conf_account "$MB_TMP/hostk.conf" \
		"k$k@example.com" generic "rotation = strict"
	k=$((k + 1))
done
k=1
while [ "$k" -le "$FL_K" ]; do
	fl_import "$MB_TMP/hostk.conf" "k$k@example.com"
	k=$((k + 1))
done
t_before=$(mockctl count endpoints.token)
e0=$(etcd_stat) || bail_out "etcd gives no revision"
k=1 kerr=0
while [ "$k" -le "$FL_K" ]; do
	MB_CONF=$MB_TMP/hostk.conf mb token "k$k@example.com" ||
		kerr=$((kerr + 1))
	k=$((k + 1))
done
e1=$(etcd_stat) || bail_out "etcd gives no revision"
nk=$(( $(mockctl count endpoints.token) - t_before ))
set -- $e0
r0=$1 i0=$2
set -- $e1
raft_k=$(calc "'%.2f' % (($2 - $i0) / max(1, $nk))")
row f3k "... one-shot refreshes (\`mailbearer token\`, $FL_K accounts, $nk refreshes)" \
	"<= 3" "$(calc "'%.2f' % (($1 - $r0) / max(1, $nk))")" \
	"$(verdict "$kerr" = 0 -a "$nk" = "$FL_K" -a "$(calc "int(($1 - $r0) <= 3 * $nk)")" = 1)"
f3r=MISSED
[ "$raft_f1" = - ] ||
	f3r=$(verdict "$(calc "int($raft_f1 <= 3 and $raft_k <= 3)")" = 1)
row f3r "... counting every raft entry (lease grants, lock attempts that lost): over f1 / one-shot" \
	"<= 3" "$raft_f1 / $raft_k" "$f3r"

# --- f4: p99 from memory, fleet host vs files host -------------------------
say "f4. TOKEN from memory: a fleet host vs a files host, 2000 requests, alternated"
fleet_conf "$MB_TMP/hostme.conf"
MB_ACCT_STATE_DIR=$MB_TMP/stateme mb_conf_account "$MB_TMP/hostme.conf" \
	me@example.com generic "rotation = strict"
MB_ACCT_STATE_DIR=$MB_TMP/statemf mb_conf_account "$MB_TMP/hostmf.conf" \
	mf@example.com generic "rotation = strict"
fl_import "$MB_TMP/hostme.conf" me@example.com --token-bytes 2048
fl_import "$MB_TMP/hostmf.conf" mf@example.com --token-bytes 2048
fleet_serve me && fleet_serve mf ||
	bail_out "f4: serve did not start"
wait_for 30 served me me@example.com && wait_for 30 served mf mf@example.com ||
	bail_out "f4: a host does not serve its account"
t_before=$(mockctl count endpoints.token)
for h in me mf; do
	timeout 60 "$IPC" -s "$MB_TMP/host$h.sock" -a "$h@example.com" \
		-c 1 -r 200 > /dev/null
done
for k in 1 2 3; do
	for h in me mf; do
		timeout 120 "$IPC" -s "$MB_TMP/host$h.sock" -a "$h@example.com" \
			-c 1 -r 2000 > "$MB_TMP/mem-$h.$k"
	done
done
nk=$(( $(mockctl count endpoints.token) - t_before ))
for h in me mf; do
	p=$(for k in 1 2 3; do kv "$MB_TMP/mem-$h.$k" p99_us; done |
		sort -n | sed -n 2p)
	e=$(for k in 1 2 3; do kv "$MB_TMP/mem-$h.$k" errors; done |
		awk '{ s += $1 } END { print s + 0 }')
	eval "p99_$h=\$p err_$h=\$e"
	diag "$h: p99 of the three runs (us): $(for k in 1 2 3; do
		kv "$MB_TMP/mem-$h.$k" p99_us; done | tr '\n' ' ')"
done
if [ -n "$p99_me" ] && [ -n "$p99_mf" ]; then
	r=$(calc "'%.2f' % ($p99_me / $p99_mf)")
	row f4 "TOKEN from memory, 1 client x 2000, p99 fleet host / files host (median of 3)" \
		"<= 1.2 x" "$r ($p99_me / $p99_mf us; errors $err_me / $err_mf; token requests $nk)" \
		"$(verdict "$(calc "int($p99_me <= 1.2 * $p99_mf)")" = 1 -a "$err_me" = 0 -a "$err_mf" = 0 -a "$nk" = 0)"
else
	row f4 "TOKEN from memory, fleet host / files host" "<= 1.2 x" failed MISSED
fi
stop_pid "$fleet_pid_me"
stop_pid "$fleet_pid_mf"
