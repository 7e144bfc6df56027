# SPDX-License-Identifier: MIT
# The token helper: the `mailbearer` command.  The core lives in
# libmbhelper.la so that the unit tests (and tests/fixtures/mb-fake-serve) link the
# same code; main.c dispatches to one file per command (cmd-*.c).
if TOKENHELPER
noinst_LTLIBRARIES += tokenhelper/libmbhelper.la
tokenhelper_libmbhelper_la_SOURCES = \
	tokenhelper/advice.c tokenhelper/advice.h \
	tokenhelper/cancel.c tokenhelper/cancel.h \
	tokenhelper/client-assertion.c tokenhelper/client-assertion.h \
	tokenhelper/conf.c tokenhelper/conf.h \
	tokenhelper/conf-etcd.c tokenhelper/conf-etcd.h \
	tokenhelper/digest.c tokenhelper/digest.h \
	tokenhelper/errtext.c tokenhelper/errtext.h \
	tokenhelper/etcd.c tokenhelper/etcd.h \
	tokenhelper/expiry.c tokenhelper/expiry.h \
	tokenhelper/fleet.c tokenhelper/fleet.h \
	tokenhelper/http.c tokenhelper/http.h \
	tokenhelper/id-token.c tokenhelper/id-token.h \
	tokenhelper/isotime.c tokenhelper/isotime.h \
	tokenhelper/json.c tokenhelper/json.h \
	tokenhelper/json-util.c tokenhelper/json-util.h \
	tokenhelper/log.c tokenhelper/log.h \
	tokenhelper/notify.c tokenhelper/notify.h \
	tokenhelper/owner.c tokenhelper/owner.h \
	tokenhelper/provider-text.c tokenhelper/provider-text.h \
	tokenhelper/refresh.c tokenhelper/refresh.h \
	tokenhelper/cmd-serve.c tokenhelper/cmd.h \
	tokenhelper/refresh-pool.c tokenhelper/refresh-pool.h \
	tokenhelper/fleet-watch.c tokenhelper/fleet-watch.h \
	tokenhelper/safe-open.c tokenhelper/safe-open.h \
	tokenhelper/seal.c tokenhelper/seal.h \
	tokenhelper/serve-loop.c tokenhelper/serve-loop.h \
	tokenhelper/serve-user.c tokenhelper/serve-user.h \
	tokenhelper/state.c tokenhelper/state.h \
	tokenhelper/store.c tokenhelper/store.h \
	tokenhelper/store-etcd.c tokenhelper/store-etcd.h \
	tokenhelper/store-files.c tokenhelper/store-files.h \
	tokenhelper/test-hooks.h \
	tokenhelper/token-cache.c tokenhelper/token-cache.h \
	tokenhelper/token.c tokenhelper/token.h \
	tokenhelper/xalloc.c tokenhelper/xalloc.h
# Directories in make variables so that `make sysconfdir=...` works.
tokenhelper_libmbhelper_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DMB_SYSCONFDIR='"$(sysconfdir)"' \
	-DMB_LOCALSTATEDIR='"$(localstatedir)"'
tokenhelper_libmbhelper_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS) -pthread
tokenhelper_libmbhelper_la_LIBADD = common/libcommon.la $(CURL_LIBS) \
	$(JSONC_LIBS) $(CRYPTO_LIBS) -lpthread

bin_PROGRAMS += tokenhelper/mailbearer
tokenhelper_mailbearer_SOURCES = tokenhelper/main.c \
	tokenhelper/cli.c tokenhelper/cli.h \
	tokenhelper/cmd-import.c tokenhelper/cmd-revoke.c \
	tokenhelper/cmd-status.c tokenhelper/cmd-store.c \
	tokenhelper/cmd-token.c tokenhelper/cmd-authorize.c \
	tokenhelper/flow-code.c tokenhelper/flow-code.h \
	tokenhelper/flow-loopback.c tokenhelper/flow-paste.c \
	tokenhelper/flow-device.c \
	tokenhelper/cmd-doctor.c tokenhelper/doctor.h \
	tokenhelper/doctor-net.c tokenhelper/doctor-postfix.c \
	tokenhelper/postfix-query.c tokenhelper/postfix-query.h \
	tokenhelper/doctor-sasl.c tokenhelper/doctor-fleet.c
tokenhelper_mailbearer_LDADD = tokenhelper/libmbhelper.la
# doctor loads libsasl2 as a mail client would (and logs in through
# http.c); status --json is written by json-c.
tokenhelper_mailbearer_CPPFLAGS = $(AM_CPPFLAGS) \
	-DMB_PLUGINDIR='"$(plugindir)"'
tokenhelper_mailbearer_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS) $(JSONC_CFLAGS)
tokenhelper_mailbearer_LDADD += $(SASL_LIBS) $(JSONC_LIBS)
endif
