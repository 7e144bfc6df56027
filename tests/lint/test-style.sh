#!/bin/sh
# SPDX-License-Identifier: MIT
# The house style (STYLE.md), checked mechanically on every C source and
# header of common/, plugin/, tokenhelper/ and every directory of tests/:
#   tabs for indentation (spaces only to align, fewer than 8),
#   at most 80 columns (a tab counts to the next multiple of 8; a line
#   that holds only a string literal may exceed, as checkpatch allows),
#   no // comments, no trailing white space,
#   none of strcpy, sprintf, strtok, atoi, gets (use the bounded ones),
#   no bare strerror( in common/, plugin/ and tokenhelper/ (not thread-safe:
#   mb_strerror of common/errstr.h, mb_errstr in the helper),
#   <curl/curl.h> included by tokenhelper/http.c only (all libcurl use
#   goes through http.c: one place for TLS verification and timeouts),
#   the ISO 8601 output format "%Y-%m-%dT..." in tokenhelper/isotime.c only
#   (mb_iso_time: one time format; parsing with strptime aside),
#   in tokenhelper/ no malloc, calloc, realloc, strdup, strndup, asprintf
#   but through xalloc.c (mb_x*: the helper's one out-of-memory policy).
# Shell scripts under tests/ and contrib/: no trailing white space.
# Every C file, shell script and Python fixture carries the project's
# license as an SPDX line in its first two lines (LICENSE: MIT).
# The first assertion checks that the file lists still reach the tests
# (a move of the tree must not leave the checker looking at nothing).
# One TAP assertion per rule; each offending line is printed as a
# diagnostic (FILE:LINE: text).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$top_srcdir" || exit 1

csrc=$(ls common/*.[ch] plugin/*.[ch] tokenhelper/*.[ch] tests/*/*.[ch] \
	2>/dev/null)
shsrc=$(ls tests/*/*.sh tests/run tests/bench/run contrib/*.sh 2>/dev/null)
if [ -z "$csrc" ]; then
	echo "1..0 # SKIP no sources found in $top_srcdir"
	exit 0
fi
echo "1..12"
n=0 failed=0

# rule NAME AWK-PROGRAM FILES: the program prints FILE:LINE: text for
# each offending line; none is a pass.
rule() {
	n=$((n + 1))
	# shellcheck disable=SC2086
	out=$(awk "$2" $3)
	if [ -z "$out" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		printf '%s\n' "$out" | head -n 50 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
}

# The code of a line: string and character literals and comments blanked
# (a comment may span lines: cmt carries that over), so that "//" or
# "sprintf(" inside a string or a comment is not taken for code.
strip='function strip(s,   r, i, c, q) {
	r = ""; q = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (cmt) {
			if (substr(s, i, 2) == "*/") { cmt = 0; i++ }
			r = r " "
		} else if (q != "") {
			if (c == "\\") { i++; r = r "  "; continue }
			if (c == q) q = ""
			r = r " "
		} else if (substr(s, i, 2) == "/*") {
			cmt = 1; i++; r = r "  "
		} else if (c == "\"" || c == "\047") {
			q = c; r = r " "
		} else
			r = r c
	}
	return r
}
FNR == 1 { cmt = 0 }
'

# The lists reach every kind of test: a unit test, the harness, a
# fixture, an integration script, this file.
n=$((n + 1))
miss=
for f in tests/unit/test-config.c tests/lib/tap.c tests/fixtures/fake-token.c; do
	case " $(echo $csrc) " in *" $f "*) ;; *) miss="$miss $f" ;; esac
done
for f in tests/integration/test-serve.sh tests/lib/tap.sh \
	tests/lint/test-style.sh; do
	case " $(echo $shsrc) " in *" $f "*) ;; *) miss="$miss $f" ;; esac
done
if [ -z "$miss" ]; then
	echo "ok $n - the file lists reach the tests ($(echo $csrc | wc -w) C, $(echo $shsrc | wc -w) sh)"
else
	echo "not ok $n - the file lists reach the tests"
	echo "# not checked:$miss"
	failed=$((failed + 1))
fi

rule "80 columns (tabs to 8; a line holding only a string may exceed)" '
/^[ \t]*"/ { next }
{
	col = 0
	for (i = 1; i <= length($0); i++)
		col = substr($0, i, 1) == "\t" ? col - col % 8 + 8 : col + 1
	if (col > 80) print FILENAME ":" FNR ": " col " columns"
}' "$csrc"

rule "indentation with tabs (never 8 spaces)" '/^\t*        / {
	print FILENAME ":" FNR ": " $0
}' "$csrc"

rule "no // comments" "$strip"'
{
	if (strip($0) ~ /\/\//) print FILENAME ":" FNR ": " $0
}' "$csrc"

rule "no trailing white space in C" '/[ \t]$/ {
	print FILENAME ":" FNR ": trailing white space"
}' "$csrc"

rule "no strcpy, sprintf, strtok, atoi, gets" "$strip"'
{
	s = strip($0)
	if (s ~ /(^|[^A-Za-z0-9_])(strcpy|sprintf|strtok|atoi|gets)[ \t]*\(/)
		print FILENAME ":" FNR ": " $0
}' "$csrc"

srcdirs=$(ls common/*.[ch] plugin/*.[ch] tokenhelper/*.[ch] 2>/dev/null)
rule "no bare strerror( in common/, plugin/, tokenhelper/ (mb_strerror)" \
	"$strip"'
{
	s = strip($0)
	if (s ~ /(^|[^A-Za-z0-9_])strerror[ \t]*\(/)
		print FILENAME ":" FNR ": " $0
}' "$srcdirs"

rule "<curl/curl.h> only in tokenhelper/http.c" '
/^[ \t]*#[ \t]*include[ \t]*[<"]curl\// {
	if (FILENAME != "tokenhelper/http.c") print FILENAME ":" FNR ": " $0
}' "$csrc"

rule "the ISO time format only in tokenhelper/isotime.c (mb_iso_time)" '
/%Y-%m-%dT/ && !/strptime/ && FILENAME != "tokenhelper/isotime.c" {
	print FILENAME ":" FNR ": " $0
}' "$srcdirs"

rule "tokenhelper/ allocates through xalloc.c only (one OOM policy)" \
	"$strip"'
{
	s = strip($0)
	if (s ~ /(^|[^A-Za-z0-9_])(malloc|calloc|realloc|strdup|strndup|v?asprintf)[ \t]*\(/ &&
	    FILENAME != "tokenhelper/xalloc.c")
		print FILENAME ":" FNR ": " $0
}' "$(ls tokenhelper/*.c)"

rule "no trailing white space in shell scripts" '/[ \t]$/ {
	print FILENAME ":" FNR ": trailing white space"
}' "$shsrc"

pysrc=$(find tests -name '*.py' | sort)
rule "an SPDX-License-Identifier: MIT line opens every source file" '
FNR <= 2 && /SPDX-License-Identifier: MIT/ { seen[FILENAME] = 1 }
FNR == 1 { files[FILENAME] = 1 }
END { for (f in files) if (!(f in seen)) print f ":1: no SPDX line" }
' "$csrc $shsrc $pysrc"

[ "$failed" = 0 ]
