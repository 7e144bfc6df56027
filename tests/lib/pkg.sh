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

# pkg_source: a clean copy of the source tree in $MB_TMP/src/mailbearer
# ($pkg_src): no build trees, no in-place configure output, no VCS.  One
# assertion.  dpkg-buildpackage there leaves the .debs in $MB_TMP/src.
pkg_source() {
	pkg_src=$MB_TMP/src/mailbearer
	mkdir -p "$pkg_src"
	(cd "$top_srcdir" && tar -cf - --exclude=.git --exclude='_build*' \
		--exclude=autom4te.cache --exclude=config.status \
		--exclude=config.log --exclude=./Makefile --exclude=./libtool \
		--exclude=./config.h --exclude=./stamp-h1 --exclude='*.o' \
		--exclude='*.lo' --exclude='*.la' --exclude=.libs \
		--exclude=.deps --exclude='mailbearer-*.tar.*' .) |
		(cd "$pkg_src" && tar -xf -)
	ok $? "source tree copied"
	chmod -R u+w "$pkg_src"
}

# pkg_debs: $plugin_deb and $helper_deb, the .debs built from $pkg_src
# (empty when missing).
pkg_debs() {
	plugin_deb=$(ls "$MB_TMP"/src/libsasl2-modules-mailbearer_*.deb \
		2>/dev/null | grep -v dbgsym | head -n 1)
	helper_deb=$(ls "$MB_TMP"/src/mailbearer_*.deb 2>/dev/null |
		head -n 1)
}
