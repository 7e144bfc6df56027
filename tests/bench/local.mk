# SPDX-License-Identifier: MIT
# Benchmarks: small C drivers used by tests/bench/run.  They
# are not tests (no timing assertions in `make check`): built on demand
# with `make bench-programs`; `make bench` runs everything.
EXTRA_PROGRAMS = tests/bench/bench-login tests/bench/bench-ipc \
	tests/bench/bench-spawn tests/bench/bench-echo
CLEANFILES += $(EXTRA_PROGRAMS)
EXTRA_DIST += tests/bench/run tests/bench/README.md \
	tests/bench/bench-hold.py tests/bench/engine.sh \
	tests/bench/whole.sh tests/bench/fleet.sh \
	tests/bench/bench-fleet-poll.py

tests_bench_bench_login_SOURCES = tests/bench/bench-login.c \
	tests/bench/bench-util.c tests/bench/bench-util.h
tests_bench_bench_login_CFLAGS = $(AM_CFLAGS) $(SASL_CFLAGS)
tests_bench_bench_login_LDADD = $(SASL_LIBS)

tests_bench_bench_ipc_SOURCES = tests/bench/bench-ipc.c \
	tests/bench/bench-util.c tests/bench/bench-util.h

tests_bench_bench_spawn_SOURCES = tests/bench/bench-spawn.c \
	tests/bench/bench-util.c tests/bench/bench-util.h

tests_bench_bench_echo_SOURCES = tests/bench/bench-echo.c \
	tests/bench/bench-util.c tests/bench/bench-util.h
tests_bench_bench_echo_CFLAGS = $(AM_CFLAGS) -pthread
tests_bench_bench_echo_LDADD = -lpthread

# the serve engine benchmarks also need tests/fixtures/mb-fake-serve
# (serve linked against the fake token core of fake-token.c)
bench-programs: $(EXTRA_PROGRAMS) tests/fixtures/mb-fake-serve

bench: all bench-programs
	$(SHELL) $(top_srcdir)/tests/bench/run $(abs_top_builddir)

.PHONY: bench bench-programs
