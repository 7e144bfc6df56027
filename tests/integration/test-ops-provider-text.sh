#!/bin/sh
# SPDX-License-Identifier: MIT
# A provider's text reaches the state file, `status` and `status --json`
# only made safe (tokenhelper/provider-text.h, common/text-safe.h): a
# token reply whose scope holds ESC sequences, BEL, CR/LF and a fake line
# after them, U+202E, bytes that are not UTF-8 and the refresh token that
# was sent (the mock provider's hostile_scope fault); then a state file
# that an older version wrote with such a scope raw.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup

# clean FILE WHAT: the checks every output must pass.
cat > "$MB_TMP/clean.py" <<'EOP'
import sys
data = open(sys.argv[1], "rb").read()
bad = []
try:
    text = data.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit("not UTF-8: %s" % e)
for c in text:
    o = ord(c)
    if (o < 0x20 and c != "\n") or 0x7f <= o <= 0x9f or \
            o in (0x061c, 0x200e, 0x200f) or 0x2028 <= o <= 0x202e or \
            0x2066 <= o <= 0x2069:
        bad.append("U+%04X" % o)
if bad:
    sys.exit("raw: " + " ".join(sorted(set(bad))))
EOP
clean() {
	"$MB_PYTHON" "$MB_TMP/clean.py" "$1" > "$MB_TMP/perr" 2>&1
	ok $? "$2: no control, bidi or line separator character, valid UTF-8"
	diag_stdin < "$MB_TMP/perr"
}

# The refresh token sent stays the stored one (no rotation): status must
# mask its echo by the state's own refresh token.
mb_account h@example.com --rotation none
time_left h@example.com -5
mockctl fault token hostile_scope > /dev/null
mb token h@example.com
ok $? "token: the reply with the hostile scope is used"
remember_secret "$(cat "$MB_TMP/out")"
check "the fault fired" test "$(mockctl count faults_fired)" = 1

# The state file holds the scope made safe already.
"$MB_PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1]))["scope"])' \
	"$MB_TMP/state/h@example.com.json" > "$MB_TMP/stored" 2> "$MB_TMP/perr"
ok $? "the state file is valid JSON"
diag_stdin < "$MB_TMP/perr"
clean "$MB_TMP/stored" "stored scope"
contains "stored scope: its escapes" "$MB_TMP/stored" \
	'\\x1B\[31mred\\x1B\[0m bell\\x07 \\x0D\\x0Aok@example.com: fake line \\xE2\\x80\\xAEevil \\xFF\\xFE\\xC0\\xAF'
contains "stored scope: the echoed refresh token masked" "$MB_TMP/stored" \
	'rt=\*{20}'

status_checks() {
	mb status h@example.com
	cp "$MB_TMP/out" "$MB_TMP/human-$1"
	clean "$MB_TMP/human-$1" "$1: status"
	contains "$1: status shows the scope with its escapes" \
		"$MB_TMP/human-$1" \
		'^  scope: .*\\x1B\[31mred.*\\x07 \\x0D\\x0Aok@example.com: fake line \\xE2\\x80\\xAEevil \\xFF'
	lacks "$1: no fake line of its own" "$MB_TMP/human-$1" \
		'^ok@example.com: fake line'
	contains "$1: the echoed refresh token masked" "$MB_TMP/human-$1" \
		'rt=\*{20}'
	mb status h@example.com --json
	cp "$MB_TMP/out" "$MB_TMP/json-$1"
	"$MB_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
s = d["accounts"][0]["scope"]
sys.exit(0 if "\\x1B[31mred" in s and "\\xE2\\x80\\xAEevil" in s else
         "scope: %r" % s)' "$MB_TMP/json-$1" > "$MB_TMP/perr" 2>&1
	ok $? "$1: status --json parses, the scope escaped"
	diag_stdin < "$MB_TMP/perr"
	clean "$MB_TMP/json-$1" "$1: status --json"
	cat "$MB_TMP/human-$1" "$MB_TMP/json-$1" >> "$MB_TMP/all-stderr"
}
status_checks new

# A state file an older version wrote: the scope raw as json-c encodes it
# (control characters as \u00XX, the other bytes as they came).
"$MB_PYTHON" - "$MB_TMP/state/h@example.com.json" "$rt" <<'EOP'
import json, os, sys
p, rt = sys.argv[1], sys.argv[2]
d = json.load(open(p))
d["scope"] = "@SCOPE@"
raw = (b"https://mail.google.com/ \\u001b[31mred\\u001b[0m bell\\u0007 "
       b"\\r\\nok@example.com: fake line \xe2\x80\xaeevil \xff\xfe\xc0\xaf "
       b"rt=" + rt.encode())
with open(p + ".t", "wb") as f:
    f.write(json.dumps(d).encode().replace(b"@SCOPE@", raw))
os.chmod(p + ".t", 0o600)
os.rename(p + ".t", p)
EOP
ok $? "a state file with a raw hostile scope"
status_checks old

no_secrets "no secret in any output" "$MB_TMP/all-stderr"
done_testing
