# The test harness: every test speaks TAP; tests/env.sh prepares the
# environment (SASL_PATH with our plugin and the system's other plugins,
# minus other XOAUTH2/OAUTHBEARER providers).
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export top_srcdir top_builddir; \
	. '$(abs_top_srcdir)/tests/env.sh';

check_LTLIBRARIES += tests/libtap.la
tests_libtap_la_SOURCES = tests/tap.c tests/tap.h

EXTRA_DIST += tests/env.sh tests/summary.sh tests/lib.sh tests/run

# Configuration, documentation and installation hygiene.
TESTS += tests/test-conf-install-deps.sh tests/test-conf-configure.sh
EXTRA_DIST += tests/test-conf-install-deps.sh tests/test-conf-configure.sh \
	tests/test-docs-config.sh tests/test-conf-fifo.sh \
	contrib/install-deps.sh
if TOKENHELPER
TESTS += tests/test-docs-config.sh tests/test-conf-fifo.sh
endif

# The closing line the CI reads: "N passed, N failed, N skipped".
check-local: check-TESTS
	@$(SHELL) $(top_srcdir)/tests/summary.sh $(top_builddir)/tests $(top_builddir)/plugin $(top_builddir)/tokenhelper
include $(top_srcdir)/tests/leak.mk
include $(top_srcdir)/tests/cc.mk
include $(top_srcdir)/tests/ops.mk
include $(top_srcdir)/tests/doctor.mk
include $(top_srcdir)/tests/authorize.mk
include $(top_srcdir)/tests/fuzz.mk
include $(top_srcdir)/tests/demo.mk
include $(top_srcdir)/tests/pkg.mk
include $(top_srcdir)/tests/clients.mk
include $(top_srcdir)/tests/style.mk
