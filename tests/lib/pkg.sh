# SPDX-License-Identifier: MIT
# Helpers of the Debian package tests (tests/install/test-pkg-*.sh);
# source after tests/lib/tap.sh.

# pkg_need: skips the test unless the packages can be built here: not in
# the ASan run of tests/run (built once, in the main run), not without
# debian/ (make distcheck), debhelper 13 and the build dependencies.
pkg_need() {
	[ "${MB_SANITIZE:-}" != 1 ] ||
		skip_all "ASan build: the packages are built in the main run"
	[ -d "$top_srcdir/debian" ] ||
		skip_all "no debian/ in the source tree"
	for pn_t in dpkg-buildpackage dh dpkg-deb; do
		command -v $pn_t >/dev/null 2>&1 ||
			skip_all "$pn_t not installed"
	done
	dpkg-checkbuilddeps -d "debhelper-compat (= 13)" /dev/null \
		2>/dev/null || skip_all "debhelper 13 not installed"
	(cd "$top_srcdir" && dpkg-checkbuilddeps) >/dev/null 2>&1 ||
		skip_all "build dependencies missing"
}

# pkg_source DIR: a clean copy of the source tree in DIR ($pkg_src): no
# build trees, no in-place configure output, no VCS.
pkg_source() {
	pkg_src=$1
	rm -rf "$pkg_src" && mkdir -p "$pkg_src" && pkg_tree |
		(cd "$pkg_src" && tar -xf -) && chmod -R u+w "$pkg_src"
}
# pkg_tree: the source tree pkg_source copies, as a tar stream on stdout.
pkg_tree() {
	(cd "$top_srcdir" && tar -cf - --exclude=.git --exclude='_build*' \
		--exclude=autom4te.cache --exclude=config.status \
		--exclude=config.log --exclude=./Makefile --exclude=./libtool \
		--exclude=./config.h --exclude=./stamp-h1 --exclude='*.o' \
		--exclude='*.lo' --exclude='*.la' --exclude=.libs \
		--exclude=.deps --exclude='mailbearer-*.tar.*' .)
}

# pkg_build: the packages, built once per build tree and shared by
# test-pkg-build.sh and test-pkg-install.sh (each works alone, and both
# at once under make -j2): under a lock, dpkg-buildpackage -us -uc -b in
# a clean copy of the source tree in $top_builddir/tests/pkg; built
# again only when the source tree changed (its checksum is in the stamp)
# or the last build failed.  Sets $pkg_log (that build's output) and,
# through pkg_debs, $plugin_deb and $helper_deb; returns the build's
# status.  The build runs in the background and is waited for, so that a
# signal ends the test at once; pkg_stop (at exit) ends the build.
pkg_build() {
	pkg_dir=$top_builddir/tests/pkg
	pkg_log=$pkg_dir/build.log
	mkdir -p "$pkg_dir" || return 1
	at_exit pkg_stop
	(
		flock -w 1800 9 || { echo "pkg_build: no lock in 1800 s" >&2
			exit 1; }
		pb_sum=$(pkg_tree | cksum)
		[ "$(cat "$pkg_dir/stamp" 2>/dev/null)" != "$pb_sum ok" ] ||
			exit 0
		rm -f "$pkg_dir/stamp"
		pkg_source "$pkg_dir/src/mailbearer" || exit 1
		rm -f "$pkg_dir"/src/*.deb "$pkg_dir"/src/*.ddeb
		pkg_run "$pkg_log" env -C "$pkg_dir/src/mailbearer" \
			DEB_BUILD_OPTIONS="nocheck parallel=2" timeout 1200 \
			dpkg-buildpackage -us -uc -b || exit 1
		echo "$pb_sum ok" > "$pkg_dir/stamp"
	) 9> "$pkg_dir/lock" &
	pkg_job=$!
	wait "$pkg_job"
	pb_rc=$?
	pkg_job=
	pkg_debs
	return $pb_rc
}
# pkg_stop: ends a build pkg_build started (as root, with all of its
# processes: pkg_run's PID namespace dies with the build's shell).
pkg_stop() {
	[ -n "${pkg_job:-}" ] || return 0
	kill -KILL "$pkg_job" 2>/dev/null
	wait "$pkg_job" 2>/dev/null
	pkg_job=
}
# pkg_run LOG CMD...: CMD, output to LOG; as root in a private PID
# namespace that ends, with all of its processes, when this shell does.
pkg_run() {
	pr_log=$1
	shift
	if [ "$(id -u)" = 0 ] &&
	    unshare --pid --fork --kill-child true 2>/dev/null; then
		setpriv --pdeathsig KILL unshare --pid --fork --kill-child -- \
			"$@" > "$pr_log" 2>&1
	else
		"$@" > "$pr_log" 2>&1
	fi
}

# pkg_debs: $plugin_deb and $helper_deb, the .debs pkg_build made (empty
# when missing).
pkg_debs() {
	plugin_deb=$(ls "$pkg_dir"/src/libsasl2-modules-mailbearer_*.deb \
		2>/dev/null | grep -v dbgsym | head -n 1)
	helper_deb=$(ls "$pkg_dir"/src/mailbearer_*.deb 2>/dev/null |
		head -n 1)
}
