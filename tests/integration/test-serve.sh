#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer serve` (tokenhelper/cmd-serve.c, serve-loop.c, token-cache.c) linked against a fake
# token core (tests/fixtures/fake-token.c, which counts refreshes in CONFIG.count):
# protocol errors, access control by SO_PEERCRED, single-flight with many
# waiting clients, rejection -> exactly one refresh, proactive and
# keep-alive refresh, slow clients and bounded concurrency, SIGHUP reload,
# SIGTERM cleanup, stale sockets, systemd socket activation.
. "$top_srcdir/tests/lib/tap.sh"

need python3
FAKE="$top_builddir/tests/fixtures/mb-fake-serve"
CLIENT="$top_srcdir/tests/fixtures/ipc-client.py"
built "$FAKE"

# The socket directory must be reachable by uid 65534 for the access
# control checks (the socket itself is mode 0666, the default).
chmod 0711 "$MB_TMP"
SOCK="$MB_TMP/pub/s"
CONF="$MB_TMP/serve.conf"
COUNT="$CONF.count"
LOG="$MB_TMP/serve.log"
cat > "$CONF" <<EOF
[a]
lifetime = 3600
[b]
allow = 65534
[sf]
delay_ms = 1000
[short]
lifetime = 24
[dead]
fail = authorize
[down]
fail = transient
[broken]
fail = error
EOF
: > "$COUNT"

ask() { python3 "$CLIENT" "$@"; }
# refreshes ACCOUNT: how many refreshes the fake core counted
refreshes() { grep -c "^refresh $1 " "$COUNT"; }
# at_least FILE ACCOUNT N: FILE counts N or more refreshes of ACCOUNT
at_least() { [ "$(grep -c "^refresh $2 " "$1")" -ge "$3" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
answers() { ask "$1" 'MAILBEARER1 TOKEN a' | grep -q '^MAILBEARER1 OK '; }

"$FAKE" --config "$CONF" --socket "$SOCK" --foreground \
	--request-timeout 1 --max-clients 8 2> "$LOG" &
pid=$!
at_exit "kill -9 $pid"
if wait_for 20 answers "$SOCK"; then ok 0 "serve answers"; else
	ok 1 "serve answers"; sed -n '1,20p' "$LOG" | diag_stdin; fi

# --- the protocol ---------------------------------------------------------
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN a')
case $r in "MAILBEARER1 OK "[0-9]*" tok-a-1") ok 0 "TOKEN -> OK";;
	*) ok 1 "TOKEN -> OK"; diag "got: $r";; esac
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN a')
check "second TOKEN served from memory" [ "$r" = "$(ask "$SOCK" 'MAILBEARER1 TOKEN a')" ]
check "start-up check plus no more refreshes for a" [ "$(refreshes a)" = 1 ]
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN nosuch')
case $r in "MAILBEARER1 ERR unknown-account "*"nosuch"*) ok 0 "unknown account";;
	*) ok 1 "unknown account"; diag "got: $r";; esac
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN dead')
case $r in "MAILBEARER1 ERR needs-authorize "*authorize*) ok 0 "needs-authorize";;
	*) ok 1 "needs-authorize"; diag "got: $r";; esac
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN down')
case $r in "MAILBEARER1 ERR unavailable "*) ok 0 "transient -> unavailable";;
	*) ok 1 "transient -> unavailable"; diag "got: $r";; esac
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN broken')
case $r in "MAILBEARER1 ERR internal state file unreadable (fake)?second line")
	ok 0 "local error -> internal, text on one line";;
	*) ok 1 "local error -> internal"; diag "got: $r";; esac
r=$(ask "$SOCK" 'MAILBEARER2 TOKEN a')
case $r in "MAILBEARER1 ERR bad-request unsupported protocol version"*)
	ok 0 "other version -> bad-request";;
	*) ok 1 "other version"; diag "got: $r";; esac
r=$(ask "$SOCK" '\x00\xff\x01garbage')
case $r in "MAILBEARER1 ERR bad-request "*) ok 0 "garbage -> bad-request";;
	*) ok 1 "garbage"; diag "got: $r";; esac
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN ../../etc/passwd')
case $r in "MAILBEARER1 ERR bad-request invalid account name") ok 0 "path in account name refused";;
	*) ok 1 "path in account"; diag "got: $r";; esac
big=$(python3 -c 'print("MAILBEARER1 TOKEN " + "A" * 40000, end="")')
r=$(ask "$SOCK" --raw "$big")
case $r in "MAILBEARER1 ERR bad-request request longer than 32768 bytes")
	ok 0 "oversized request -> bad-request";;
	*) ok 1 "oversized request"; diag "got: $(printf %.200s "$r")";; esac
r=$(ask "$SOCK" --raw 'MAILBEARER1 TOKEN a')
check "request without LF: closed after the timeout" [ "$r" = EOF ]
check "still serving after bad requests" answers "$SOCK"
check "server process alive" alive "$pid"

# --- access control -------------------------------------------------------
PY=$(command -v /usr/bin/python3 || command -v python3)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PY" "$CLIENT" "$@"; }
	r=$(as_nobody "$SOCK" 'MAILBEARER1 TOKEN a')
	case $r in "MAILBEARER1 ERR denied account \"a\" is not available to uid 65534 (mailbearer serve's log says why)")
		ok 0 "uid 65534 denied account a, without details";;
		*) ok 1 "denied"; diag "got: $r";; esac
	r=$(as_nobody "$SOCK" 'MAILBEARER1 TOKEN b')
	case $r in "MAILBEARER1 OK "*" tok-b-"*) ok 0 "uid 65534 allowed account b";;
		*) ok 1 "allowed b"; diag "got: $r";; esac
	r=$(as_nobody "$SOCK" 'MAILBEARER1 REJECTED a tok-a-1')
	case $r in "MAILBEARER1 ERR denied "*) ok 0 "a denied uid cannot report rejections";;
		*) ok 1 "denied REJECTED"; diag "got: $r";; esac
	contains "serve's log names the key to add" "$LOG" \
		"uid 65534 may not use account \"a\"; add it to \"allow\" in \[a\] of $CONF"
else
	skip "access control needs root and setpriv"
	skip "access control needs root and setpriv"
	skip "access control needs root and setpriv"
	skip "access control needs root and setpriv"
fi

# --- single-flight and rejection ------------------------------------------
check "sf: one start-up refresh" wait_for 10 at_least "$COUNT" sf 1
r=$(ask "$SOCK" 'MAILBEARER1 REJECTED sf tok-sf-1')
check "REJECTED -> DONE" [ "$r" = "MAILBEARER1 DONE" ]
# begins ACCOUNT: how many refreshes of ACCOUNT the fake core started
begins() { grep -c "^begin $1\$" "$COUNT"; }
check "REJECTED starts the refresh at once" wait_for 10 sh -c \
	"[ \$(grep -c '^begin sf\$' '$COUNT') -ge 2 ]"
# The refused token is still valid by the clock: it is served, not
# withheld, while the forced refresh runs (sf's takes 1 s; if it ended
# already, the clients get the new one, which is also right).
ask "$SOCK" 'MAILBEARER1 TOKEN sf' --parallel 40 > "$MB_TMP/par.out"
n=$(grep -c ' tok-sf-[12]$' "$MB_TMP/par.out")
check "40 concurrent clients during the forced refresh all got a token ($n)" \
	[ "$n" = 40 ]
check "... and the refresh ends" wait_for 10 at_least "$COUNT" sf 2
ask "$SOCK" 'MAILBEARER1 TOKEN sf' --parallel 40 > "$MB_TMP/par.out"
n=$(grep -c ' tok-sf-2$' "$MB_TMP/par.out")
check "40 concurrent clients then all got the new token ($n)" [ "$n" = 40 ]
check "... with exactly one refresh" [ "$(refreshes sf)" = 2 ]
lacks "... never two refreshes of one account at once" "$COUNT" '^OVERLAP'
r=$(ask "$SOCK" 'MAILBEARER1 REJECTED sf tok-sf-1')
r2=$(ask "$SOCK" 'MAILBEARER1 TOKEN sf')
case $r2 in *" tok-sf-2") ok 0 "stale rejection: same token";;
	*) ok 1 "stale rejection"; diag "got: $r2";; esac
check "stale rejection: no refresh" [ "$(refreshes sf)" = 2 ]

# --- proactive refresh (token of 24 s: margin capped to 12 s) ---------------
ask "$SOCK" 'MAILBEARER1 TOKEN short' > /dev/null
check "a used token is refreshed before the margin without a request" \
	wait_for 30 at_least "$COUNT" short 2
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN short')
case $r in *" tok-short-2") ok 0 "the next client gets the new token";;
	*) ok 1 "proactive token"; diag "got: $r";; esac
check "... without waiting for another refresh" [ "$(refreshes short)" = 2 ]

# --- slow clients, bounded concurrency ------------------------------------
# 8 slots: 8 silent clients hold them until the 1 s request timeout.
ask "$SOCK" --raw '' --parallel 8 > "$MB_TMP/silent.out" &
spid=$!
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN a')
case $r in "MAILBEARER1 OK "*) ok 0 "served while 8 silent clients held every slot";;
	*) ok 1 "served while busy"; diag "got: $r";; esac
wait "$spid"
check "silent clients were dropped" [ "$(grep -c '^EOF$' "$MB_TMP/silent.out")" = 8 ]

# --- SIGHUP reload ----------------------------------------------------------
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN c')
case $r in *unknown-account*) ok 0 "c unknown before reload";;
	*) ok 1 "c before reload"; diag "got: $r";; esac
printf '[c]\n' >> "$CONF"
kill -HUP "$pid"
check "reload logged" wait_for 10 grep -q "reloaded $CONF" "$LOG"
r=$(ask "$SOCK" 'MAILBEARER1 TOKEN c')
case $r in "MAILBEARER1 OK "*" tok-c-"*) ok 0 "c served after SIGHUP";;
	*) ok 1 "c after reload"; diag "got: $r";; esac
cp "$CONF" "$CONF.good"
printf 'this is not ini\n' >> "$CONF"
kill -HUP "$pid"
check "a broken config is reported" \
	wait_for 10 grep -q "reload failed, keeping the running configuration: $CONF:[0-9]*: syntax error" "$LOG"
check "... and the old one keeps serving" answers "$SOCK"

# --- secrets never logged -------------------------------------------------
lacks "no token in the log" "$LOG" 'tok-'

# --- a second server on the same socket; SIGTERM --------------------------
"$FAKE" --config "$CONF.good" --socket "$SOCK" --foreground \
	2> "$MB_TMP/second.log" &
pid2=$!
at_exit "kill -9 $pid2"
check "a second server on a live socket exits" wait_for 10 sh -c "! kill -0 $pid2"
contains "... saying another one is running" "$MB_TMP/second.log" 'already running'
kill -TERM "$pid"
check "SIGTERM stops serve" wait_for 20 sh -c "! kill -0 $pid"
wait "$pid"
check "... with status 0" [ $? = 0 ]
check "... and removes its socket" [ ! -e "$SOCK" ]

# --- a stale socket is replaced ---------------------------------------------
"$FAKE" --config "$CONF.good" --socket "$SOCK" --foreground 2>> "$LOG" &
pid=$!
at_exit "kill -9 $pid"
wait_for 20 answers "$SOCK"
kill -9 "$pid"
wait "$pid" 2>/dev/null
check "kill -9 leaves the socket behind" [ -S "$SOCK" ]
"$FAKE" --config "$CONF.good" --socket "$SOCK,mode=0600" --foreground 2>> "$LOG" &
pid=$!
at_exit "kill -9 $pid"
check "a new server replaces the stale socket" wait_for 20 answers "$SOCK"
check "mode= option applied" [ "$(stat -c %a "$SOCK")" = 600 ]
kill -TERM "$pid"
wait_for 20 sh -c "! kill -0 $pid"

# --- keep-alive of idle accounts --------------------------------------------
printf '[idle]\n' > "$MB_TMP/idle.conf"
: > "$MB_TMP/idle.conf.count"
"$FAKE" --config "$MB_TMP/idle.conf" --socket "$MB_TMP/idle.sock" \
	--foreground --keepalive 2s 2> "$MB_TMP/idle.log" &
kpid=$!
at_exit "kill -9 $kpid"
check "an idle account is refreshed by keep-alive" \
	wait_for 30 at_least "$MB_TMP/idle.conf.count" idle 3
contains "... and it is logged" "$MB_TMP/idle.log" 'account idle: keep-alive refresh'
kill -TERM "$kpid"

# --- systemd socket activation --------------------------------------------
ACT="$MB_TMP/act.sock"
python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(16)
os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
os.environ["LISTEN_FDS"] = "1"; os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])' "$ACT" "$FAKE" --config "$CONF.good" \
	--foreground 2> "$MB_TMP/act.log" &
apid=$!
at_exit "kill -9 $apid"
check "socket activation: serves on the inherited socket" wait_for 20 answers "$ACT"
contains "... and says so" "$MB_TMP/act.log" 'socket activation: 1 socket'
lacks "... without creating the default socket" "$MB_TMP/act.log" 'listening on'
kill -TERM "$apid"
check "activated serve stops on SIGTERM" wait_for 20 sh -c "! kill -0 $apid"
check "... leaving systemd's socket in place" [ -S "$ACT" ]

# --- usage errors -----------------------------------------------------------
"$FAKE" --bogus > /dev/null 2>&1
check "unknown option -> status 64 (EX_USAGE)" [ $? = 64 ]
"$FAKE" --config "$CONF.good" --socket "$MB_TMP/x,mode=999" --foreground \
	2> "$MB_TMP/usage.log"
check "bad socket mode -> status 71 (EX_OSERR)" [ $? = 71 ]
contains "... with a clear message" "$MB_TMP/usage.log" 'bad mode "999"'
"$FAKE" --config "$MB_TMP/missing.conf" --socket "$MB_TMP/y" --foreground \
	2> "$MB_TMP/usage.log"
check "missing config -> status 78 (EX_CONFIG)" [ $? = 78 ]
contains "... naming the file" "$MB_TMP/usage.log" "missing.conf"

done_testing
