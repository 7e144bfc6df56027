# SPDX-License-Identifier: MIT
# Fuzzing (doc/fuzzing.md): libFuzzer targets built with clang, apart from
# the automake build so that the normal build keeps its own compiler.
# `make fuzz` builds every target and runs each for FUZZ_SECONDS on a
# scratch copy of its seed corpus (tests/fuzz/corpus/TARGET); a crash, a
# leak or a sanitizer report fails the rule and leaves the input in
# tests/fuzz/crash-TARGET-*.  `make fuzz-build` only builds.
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_SAN = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 $(FUZZ_SAN) -Wall -Wsign-compare -Wno-unused-parameter
FUZZ_TARGETS = challenge plugin-steps token-reply state config ipc
FUZZ_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir)/common \
	-I$(top_srcdir)/plugin -I$(top_srcdir)/tokenhelper \
	-DMB_SOCKET_PATH='"/nonexistent/mailbearer-fuzz/socket"' \
	-DMB_SYSCONFDIR='"/nonexistent/etc"' \
	-DMB_LOCALSTATEDIR='"/nonexistent/var"'
FUZZ_COMMON_SRC = errstr.c wipe.c ipc-proto.c token-syntax.c token-rule.c \
	account-name.c base64.c bounded-writer.c initial-response.c \
	serve-socket.c text-safe.c
FUZZ_PLUGIN_SRC = mech.c creds.c xoauth2-msg.c token-source.c \
	password-advice.c \
	helper-client.c options.c sasl-log.c
FUZZ_HELPER_SRC = advice.c cancel.c client-assertion.c conf.c digest.c \
	errtext.c expiry.c http.c id-token.c isotime.c json.c json-util.c \
	log.c notify.c provider-text.c refresh.c cmd-serve.c refresh-pool.c \
	safe-open.c serve-loop.c state.c store.c token-cache.c token.c \
	conf-etcd.c etcd.c fleet.c fleet-watch.c seal.c store-etcd.c \
	store-files.c owner.c serve-user.c \
	xalloc.c
FUZZ_HELPER_LIBS = $(CURL_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS) -lpthread

EXTRA_DIST += tests/fuzz/local.mk tests/fuzz/run.sh tests/fuzz/corpus doc/fuzzing.md \
	tests/fuzz/fuzz-challenge.c tests/fuzz/fuzz-plugin-steps.c \
	tests/fuzz/fuzz-token-reply.c tests/fuzz/fuzz-state.c \
	tests/fuzz/fuzz-config.c tests/fuzz/fuzz-ipc.c

FUZZ_BUILD = $(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) $(SASL_CFLAGS) \
	$(JSONC_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS) -pthread

# Every source compiled once into tests/fuzz/obj/DIR-FILE.o, archived per
# directory (tests/fuzz/obj/libDIR.a) so that a target links only what it
# uses, as the unit tests do with the convenience libraries.  Rebuilt at
# every `make fuzz` (a few seconds): no header dependency goes stale.
tests/fuzz/objs.stamp: config.h fuzz-force
	@echo "  FUZZCC   common plugin tokenhelper"
	@mkdir -p tests/fuzz/obj
	@d=common; for f in $(FUZZ_COMMON_SRC:.c=) /plugin $(FUZZ_PLUGIN_SRC:.c=) \
	    /tokenhelper $(FUZZ_HELPER_SRC:.c=); do \
		case $$f in /*) d=$${f#/}; continue ;; esac; \
		$(FUZZ_BUILD) -fsanitize=fuzzer-no-link -c \
			-o "tests/fuzz/obj/$$d-$$f.o" \
			"$(top_srcdir)/$$d/$$f.c" || exit 1; \
	done
	@for d in common plugin tokenhelper; do \
		rm -f tests/fuzz/obj/lib$$d.a; \
		$(AR) rc tests/fuzz/obj/lib$$d.a tests/fuzz/obj/$$d-*.o && \
		$(RANLIB) tests/fuzz/obj/lib$$d.a || exit 1; \
	done
	@touch $@

# The objects are named by the recipe (portable make has no functions).
FUZZ_LINK = $(FUZZ_BUILD) -o $@ $(top_srcdir)/tests/fuzz/$$(basename $@).c

tests/fuzz/fuzz-challenge tests/fuzz/fuzz-plugin-steps \
tests/fuzz/fuzz-ipc: tests/fuzz/objs.stamp $(FUZZ_SRC_FILES)
	@echo "  FUZZLD   $@"
	@$(FUZZ_LINK) tests/fuzz/obj/libplugin.a tests/fuzz/obj/libcommon.a
tests/fuzz/fuzz-token-reply tests/fuzz/fuzz-state \
tests/fuzz/fuzz-config: tests/fuzz/objs.stamp $(FUZZ_SRC_FILES)
	@echo "  FUZZLD   $@"
	@$(FUZZ_LINK) tests/fuzz/obj/libtokenhelper.a \
		tests/fuzz/obj/libcommon.a $(FUZZ_HELPER_LIBS)

FUZZ_SRC_FILES = $(top_srcdir)/tests/fuzz/fuzz-challenge.c \
	$(top_srcdir)/tests/fuzz/fuzz-plugin-steps.c \
	$(top_srcdir)/tests/fuzz/fuzz-token-reply.c \
	$(top_srcdir)/tests/fuzz/fuzz-state.c \
	$(top_srcdir)/tests/fuzz/fuzz-config.c \
	$(top_srcdir)/tests/fuzz/fuzz-ipc.c
FUZZ_BINS = tests/fuzz/fuzz-challenge tests/fuzz/fuzz-plugin-steps \
	tests/fuzz/fuzz-token-reply tests/fuzz/fuzz-state \
	tests/fuzz/fuzz-config tests/fuzz/fuzz-ipc

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@FUZZ_SECONDS='$(FUZZ_SECONDS)' $(SHELL) \
		$(top_srcdir)/tests/fuzz/run.sh '$(top_srcdir)/tests/fuzz' \
		tests/fuzz $(FUZZ_TARGETS)

fuzz-clean:
	rm -rf tests/fuzz/obj tests/fuzz/objs.stamp tests/fuzz/work \
		tests/fuzz/*.log tests/fuzz/*.trs \
		tests/fuzz/crash-* $(FUZZ_BINS)

clean-local: fuzz-clean

fuzz-force:

.PHONY: fuzz fuzz-build fuzz-clean fuzz-force
