#!/bin/sh
# SPDX-License-Identifier: MIT
# Every configuration example the documentation shows parses as written:
#  - README.md and doc/*.md: each fenced block opened with ```ini (a
#    fenced block that looks like a configuration but is not marked so is
#    an error, so no example escapes the test);
#  - contrib/mailbearer.conf.example, as shipped and with its commented-out
#    accounts enabled;
#  - doc/*.[0-9]: each .nf/.fi block that holds a [section] and a
#    provider or client_id line.
# Each block is loaded by `mailbearer status --config FILE`, which needs
# no network: the configuration parsed if status gets as far as printing
# "configuration: FILE".  Absolute client_secret_file, ca_file and
# state_dir paths (and client_certificate_file, client_key_file,
# service_account_file, and a fleet's etcd_*_file and state_key_file) are
# moved under a temporary root where the files are created (mode 0600; a
# state key of 32 bytes), since the examples name /etc paths; a fleet's
# etcd_endpoints become a closed port on 127.0.0.1 (no test leaves the
# machine).
. "$top_srcdir/tests/lib/tap.sh"

need_helper
blocks=$MB_TMP/blocks
root=$MB_TMP/root
mkdir -p "$blocks" "$root" "$MB_TMP/home"
manifest=$blocks/manifest
: > "$manifest"

# md_blocks FILE: appends FILE's fenced blocks to $blocks as N.conf with
# a manifest line "N FILE:LINE ini|other config|-".
md_blocks() {
	awk -v out="$blocks" -v n="$(wc -l < "$manifest")" '
	function looks() { return sec && key ? "config" : "-" }
	!infence && /^[ \t]*```/ {
		infence = 1; info = $0; indent = $0
		sub(/^[ \t]*```[ \t]*/, "", info); sub(/[ \t].*/, "", info)
		sub(/```.*/, "", indent)
		n++; start = FNR; sec = key = 0
		fn = out "/" n ".conf"; printf "" > fn
		next
	}
	infence && /^[ \t]*```[ \t]*$/ {
		infence = 0; close(fn)
		print n, FILENAME ":" start, (info == "ini" ? "ini" : "other"),
		    looks() >> (out "/manifest")
		next
	}
	infence {
		line = $0
		if (substr(line, 1, length(indent)) == indent)
			line = substr(line, length(indent) + 1)
		if (line ~ /^[ \t]*\[[^\]]+\][ \t]*([#;].*)?$/) sec = 1
		if (line ~ /^[ \t]*(provider|client_id)[ \t]*=/) key = 1
		print line > fn
	}' "$1"
}

# man_blocks FILE: the same for the .nf/.fi blocks of a man page.
man_blocks() {
	awk -v out="$blocks" -v n="$(wc -l < "$manifest")" '
	/^\.nf/ { infill = 1; n++; start = FNR; sec = key = 0
		fn = out "/" n ".conf"; printf "" > fn; next }
	infill && /^\.fi/ { infill = 0; close(fn)
		print n, FILENAME ":" start, "man",
		    (sec && key ? "config" : "-") >> (out "/manifest"); next }
	infill && /^\./ { next }
	infill {
		line = $0; gsub(/\\-/, "-", line); gsub(/\\e/, "\\", line)
		if (line ~ /^[ \t]*\[[^\]]+\][ \t]*([#;].*)?$/) sec = 1
		if (line ~ /^[ \t]*(provider|client_id)[ \t]*=/) key = 1
		print line > fn
	}' "$1"
}

# file_block LABEL: standard input as one block.
file_block() {
	n=$(( $(wc -l < "$manifest") + 1 ))
	cat > "$blocks/$n.conf"
	echo "$n $1 file config" >> "$manifest"
}

for f in "$top_srcdir/README.md" "$top_srcdir"/doc/*.md; do
	md_blocks "$f"
done
for f in "$top_srcdir"/doc/*.[0-9]; do
	man_blocks "$f"
done
example=$top_srcdir/contrib/mailbearer.conf.example
file_block contrib/mailbearer.conf.example < "$example"
sed -E 's/^#(\[|[a-z_]+ *=)/\1/' "$example" |
	file_block "contrib/mailbearer.conf.example(accounts-uncommented)"

# prepare N: rewrites absolute paths of block N under $root and creates
# the files it names; prints the file to load.
prepare() {
	awk -v root="$root" -v list="$blocks/$1.files" '
	{
		line = $0; v = line; sub(/[ \t][#;].*/, "", v)
		if (v ~ /^[ \t]*etcd_endpoints[ \t]*=/)
			line = "etcd_endpoints = https://127.0.0.1:9"
		if (v ~ ("^[ \t]*(client_(secret|certificate|key)_file|" \
			 "service_account_file|state_key_file|" \
			 "etcd_(ca|cert|key|password)_file|" \
			 "ca_file|state_dir)[ \t]*="))
		{
			k = v; sub(/[ \t]*=.*/, "", k); sub(/^[ \t]*/, "", k)
			sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]*$/, "", v)
			if (v ~ /^\//) { line = k " = " root v; v = root v }
			print k, v > list
		}
		print line
	}' "$blocks/$1.conf" > "$blocks/$1.run.conf"
	[ -f "$blocks/$1.files" ] || : > "$blocks/$1.files"
	while read -r key path; do
		case $path in /*) ;; *) path=$blocks/$path ;; esac
		case $key in
		state_dir) continue ;;
		esac
		mkdir -p "$(dirname "$path")"
		if [ "$key" = state_key_file ]; then
			printf '%032d' 0 > "$path"
		else
			echo example-secret > "$path"
		fi
		chmod 600 "$path"
	done < "$blocks/$1.files"
	chmod 600 "$blocks/$1.run.conf"
	echo "$blocks/$1.run.conf"
}

has_postfix=0
getent passwd postfix >/dev/null 2>&1 && has_postfix=1
n_readme=0 n_man=0 n_example=0 n_checked=0
while read -r n where kind looks; do
	short=${where#"$top_srcdir/"}
	if [ "$kind" = other ]; then
		[ "$looks" = config ] &&
			ok 1 "$short: config example not marked \`\`\`ini"
		continue
	fi
	[ "$kind" = man ] && [ "$looks" != config ] && continue
	case $short in
	README.md:*) n_readme=$((n_readme + 1)) ;;
	doc/*.[0-9]:*) n_man=$((n_man + 1)) ;;
	contrib/*) n_example=$((n_example + 1)) ;;
	esac
	if [ "$has_postfix" = 0 ] &&
	   grep -Eq '^[ \t]*allow[ \t]*=.*postfix' "$blocks/$n.conf"; then
		skip "$short: allow = postfix, and there is no user postfix"
		continue
	fi
	conf=$(prepare "$n")
	HOME=$MB_TMP/home XDG_STATE_HOME=$MB_TMP/state \
		XDG_CONFIG_HOME=$MB_TMP/xdg MAILBEARER_CONFIG='' \
		timeout 20 "$MB_HELPER" status --config "$conf" \
		>"$blocks/$n.out" 2>"$blocks/$n.err"
	n_checked=$((n_checked + 1))
	if head -n 1 "$blocks/$n.out" | grep -qxF "configuration: $conf"; then
		ok 0 "$short: the example parses"
	else
		ok 1 "$short: the example parses"
		diag_stdin < "$blocks/$n.err"
		sed -n '1,40p' "$blocks/$n.conf" | diag_stdin
	fi
done < "$manifest"
check "README.md shows a configuration example" test "$n_readme" -ge 1
check "a man page shows a configuration example" test "$n_man" -ge 1
check "contrib/mailbearer.conf.example is checked" test "$n_example" = 2
done_testing
