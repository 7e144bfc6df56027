# SPDX-License-Identifier: MIT
# The test tree, by kind (tests/README.md is the map):
#   tests/unit/         C unit tests of one module, no server, no network
#   tests/integration/  the built programs against real servers, clients
#                       and the mock provider on 127.0.0.1
#   tests/install/      configure, install-deps, make install, the Debian
#                       packages, README's demo
#   tests/lint/         checks of the source tree itself (style, docs)
#   tests/fuzz/         libFuzzer targets and their seed corpora
#   tests/fixtures/     what the tests run against: the mock provider,
#                       server templates, fakes, shims, C drivers
#   tests/bench/        benchmarks (never run by `make check`)
#   tests/lib/          the harness: TAP in C and sh, environment, helpers
# Every test speaks TAP; tests/lib/env.sh prepares the environment
# (SASL_PATH with our plugin and the system's other plugins, minus other
# XOAUTH2/OAUTHBEARER providers).
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
if TOKENHELPER
mb_with_helper = yes
else
mb_with_helper = no
endif
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	MB_WITH_HELPER='$(mb_with_helper)'; \
	export top_srcdir top_builddir MB_WITH_HELPER; \
	. '$(abs_top_srcdir)/tests/lib/env.sh';

check_LTLIBRARIES += tests/lib/libtap.la
tests_lib_libtap_la_SOURCES = tests/lib/tap.c tests/lib/tap.h

EXTRA_DIST += tests/README.md tests/run tests/run-under-load tests/lib/env.sh \
	tests/lib/summary.sh tests/lib/tap.sh tests/lib/servers.sh \
	tests/lib/token.sh tests/lib/postfix.sh tests/lib/mbsync.sh \
	tests/lib/authorize.sh tests/lib/doctor.sh tests/lib/pkg.sh \
	tests/lib/etcd.sh tests/lib/fleet.sh

# The closing line the CI reads: "N passed, N failed, N skipped".
check-local: check-TESTS
	@$(SHELL) $(top_srcdir)/tests/lib/summary.sh $(top_builddir)/tests

# What tests share in the build tree, made on first use: the run's CA
# (tests/lib/servers.sh start_ca), the python3 link (tests/lib/env.sh),
# the Debian packages built once (tests/lib/pkg.sh), the links to the
# system's SASL plugins.
mb-tests-clean:
	-rm -rf tests/ca tests/ca-* tests/ca.lock tests/bin tests/pkg \
		tests/sysplugins
clean-local: mb-tests-clean
.PHONY: mb-tests-clean

include $(top_srcdir)/tests/unit/local.mk
include $(top_srcdir)/tests/integration/local.mk
include $(top_srcdir)/tests/install/local.mk
include $(top_srcdir)/tests/lint/local.mk
include $(top_srcdir)/tests/fixtures/local.mk
include $(top_srcdir)/tests/fuzz/local.mk
include $(top_srcdir)/tests/bench/local.mk
