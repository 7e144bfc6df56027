#!/bin/sh
# SPDX-License-Identifier: MIT
# `mailbearer authorize --paste ACCOUNT`: no listener; the final redirect
# address (or the bare code) is read from standard input.  The same state
# and PKCE checks as the loopback flow; nothing stored on refusal.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
. "$top_srcdir/tests/lib/authorize.sh"
token_setup
need curl mkfifo

# paste_run NAME ACCOUNT TEXT-COMMAND [ARGS]: runs authorize --paste with
# stdin on a FIFO; once the URL is printed, the output of the shell
# command TEXT-COMMAND (which sees $url and $loc, the provider's redirect)
# is pasted.
paste_run() {
	pr_name=$1 pr_acct=$2 pr_text=$3
	shift 3
	rm -f "$MB_TMP/fifo"
	mkfifo "$MB_TMP/fifo"
	az_stdin=$MB_TMP/fifo az_start "$pr_name" "$pr_acct" --paste "$@"
	exec 3> "$MB_TMP/fifo"
	url=$(az_url "$pr_name")
	loc=$(az_location "$url")
	eval "$pr_text" >&3
	exec 3>&-
}

g=gmail@example.com
mockctl account "$g" --client-id cid > /dev/null
az_conf "$g" google
paste_run whole "$g" 'printf "%s\n" "$loc"'
check "the whole redirect address: exit 0" test "$(az_rc whole)" = 0
case $url in *redirect_uri=http%3A%2F%2F127.0.0.1%3A*) ok 0 \
	"Google: a loopback redirect URI (nothing listens on it)" ;;
*) ok 1 "Google: a loopback redirect URI"; diag "$url" ;; esac
case $loc in
*code=*state=*) ok 0 "the provider redirected with code and state" ;;
*) ok 1 "the provider redirected with code and state"; diag "$loc" ;;
esac
contains "prints who is authorized" "$MB_TMP/whole.out" "^authorized: $g "
contains "prints the expiry" "$MB_TMP/whole.out" \
	'^access token expires: 20[0-9-]{8}T[0-9:]{8}Z$'
check "refresh token stored" test -n "$(st_get "$g" refresh_token)"
remember_secret "$(st_get "$g" refresh_token)"
mb token "$g"
ok $? "mailbearer token works afterwards"
lacks "no listener: the prompt has no ssh -L line" "$MB_TMP/whole.out" "ssh -L"

# The bare code, as Microsoft's native-client page shows it.
m=ms@example.com
ms_scope="https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
mockctl account "$m" --client-id cid --style microsoft --rotation rotate \
	--scope "$ms_scope" > /dev/null
az_conf "$m" microsoft "scope = $ms_scope"
paste_run bare "$m" \
	'printf "%s\n" "$loc" | sed "s/.*[?&]code=\([^&]*\).*/\1/"'
check "the bare code: exit 0" test "$(az_rc bare)" = 0
case $url in *nativeclient*) ok 0 "Microsoft: the native-client redirect" ;;
*) ok 1 "Microsoft: the native-client redirect"; diag "$url" ;; esac
contains "bare code: says the state could not be checked" "$MB_TMP/bare.err" \
	"bare code has no state"
check "bare code: refresh token stored" test -n "$(st_get "$m" refresh_token)"
remember_secret "$(st_get "$m" refresh_token)"

# Refusals.
b=bad@example.com
mockctl account "$b" --client-id cid > /dev/null
az_conf "$b" google
paste_run wrong-state "$b" \
	'printf "%s\n" "$loc" | sed "s/state=./state=Z/"'
check "a wrong state: exit 77" test "$(az_rc wrong-state)" = 77
contains "... says why" "$MB_TMP/wrong-state.err" "state does not match"
check "... nothing stored" no_state "$b"
check "... the code was never redeemed" \
	test "$(mockctl count "users.$b.code")" = 0
paste_run missing-state "$b" \
	'printf "%s\n" "$loc" | sed "s/&state=[^&]*//"'
check "a missing state: exit 77" test "$(az_rc missing-state)" = 77
contains "... says why" "$MB_TMP/missing-state.err" "carries no state"
check "... nothing stored" no_state "$b"
# The provider bound the code to another challenge than ours.
other_loc() {
	other=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB
	az_location "$(printf '%s' "$url" | sed \
		"s/code_challenge=[^&]*/code_challenge=$other/")"
	echo
}
paste_run wrong-verifier "$b" other_loc
check "a code for another verifier: exit 77" \
	test "$(az_rc wrong-verifier)" = 77
contains "... refused by the provider" "$MB_TMP/wrong-verifier.err" \
	"invalid_grant"
check "... nothing stored" no_state "$b"
paste_run garbage "$b" 'echo "not a code at all"'
check "garbage: exit 65" test "$(az_rc garbage)" = 65
check "... nothing stored" no_state "$b"
paste_run nothing "$b" ':' --timeout 3
check "end of input: exit 65" test "$(az_rc nothing)" = 65
rm -f "$MB_TMP/fifo"
mkfifo "$MB_TMP/fifo"
az_stdin=$MB_TMP/fifo az_start slow "$b" --paste --timeout 2
exec 3> "$MB_TMP/fifo"
check "nothing pasted in time: exit 75" test "$(az_rc slow)" = 75
exec 3>&-
contains "... says so" "$MB_TMP/slow.err" "nothing was pasted in time"
check "... nothing stored" no_state "$b"

# SIGHUP (the ssh session drops) while waiting for the paste.
rm -f "$MB_TMP/fifo"
mkfifo "$MB_TMP/fifo"
"$MB_HELPER" --config "$MB_CONF" authorize "$b" --paste --timeout 50 \
	< "$MB_TMP/fifo" > "$MB_TMP/hup.out" 2> "$MB_TMP/hup.err" &
hpid=$!
at_exit "kill -9 $hpid"
exec 3> "$MB_TMP/fifo"
wait_for 10 grep -q '^https://' "$MB_TMP/hup.out"
kill -HUP "$hpid"
wait_for 5 sh -c "! kill -0 $hpid"
wait "$hpid"
check "SIGHUP while waiting: exit 129 at once" test $? = 129
exec 3>&-
check "... nothing stored" no_state "$b"

leak=0
while read -r s; do
	[ -n "$s" ] && grep -qF -- "$s" "$MB_TMP/all-stderr" && leak=1
done < "$MB_TMP/secrets"
ok $leak "no secret on stderr"
done_testing
