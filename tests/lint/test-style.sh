#!/bin/sh
# The house style (STYLE.md), checked mechanically on every C source and
# header of common/, plugin/, tokenhelper/, tests/ and tests/fuzz/:
#   tabs for indentation (spaces only to align, fewer than 8),
#   at most 80 columns (a tab counts to the next multiple of 8; a line
#   that holds only a string literal may exceed, as checkpatch allows),
#   no // comments, no trailing white space,
#   none of strcpy, sprintf, strtok, atoi, gets (use the bounded ones).
# Shell scripts under tests/ and contrib/: no trailing white space.
# One TAP assertion per rule; each offending line is printed as a
# diagnostic (FILE:LINE: text).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir" || exit 1

csrc=$(ls common/*.[ch] plugin/*.[ch] tokenhelper/*.[ch] tests/*.[ch] \
	tests/fuzz/*.c 2>/dev/null)
shsrc=$(ls tests/*.sh tests/fuzz/*.sh tests/run contrib/*.sh 2>/dev/null)
if [ -z "$csrc" ]; then
	echo "1..0 # SKIP no sources found in $top_srcdir"
	exit 0
fi
echo "1..6"
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

rule "no trailing white space in shell scripts" '/[ \t]$/ {
	print FILENAME ":" FNR ": trailing white space"
}' "$shsrc"

[ "$failed" = 0 ]
