# SPDX-License-Identifier: MIT
# How mailbearer gets onto a machine: install-deps.sh, configure's
# summary, `make install` of units, example config and guides, the Debian
# packages (built once per build tree from a copy of the source tree,
# tests/lib/pkg.sh pkg_build, about 25 s; test-pkg-build.sh checks them
# and lintian's verdict; test-pkg-install.sh installs, upgrades, removes
# and purges them on this Debian 12 seen through a private overlay, about
# 20 s, no network), and README's first command (contrib/demo.sh)
# against this build, leaving nothing behind.
# The fast set (configure --with-tests=fast: make distcheck, the Debian
# package build) keeps test-configure.sh only.
TESTS += tests/install/test-configure.sh
mb_helper_install_tests = tests/install/test-install-units.sh \
	tests/install/test-pkg-build.sh tests/install/test-pkg-install.sh \
	tests/install/test-demo.sh
if MB_ALL_TESTS
TESTS += tests/install/test-install-deps.sh
if TOKENHELPER
TESTS += $(mb_helper_install_tests)
endif
endif
EXTRA_DIST += tests/install/local.mk tests/install/test-install-deps.sh \
	tests/install/test-configure.sh $(mb_helper_install_tests) \
	contrib/install-deps.sh contrib/demo.sh
