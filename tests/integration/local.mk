# SPDX-License-Identifier: MIT
# Integration tests (sh, TAP): the built plugin and `mailbearer` against
# the mock provider, a private Dovecot and Postfix, and the clients people
# run, all on 127.0.0.1 (fixtures in tests/fixtures/, helpers in
# tests/lib/).  Each skips, saying why, when a server, a client or root is
# missing.  Named test-AREA-*.sh; the areas:
#   load          the .so's exports and its rank among libsasl2's plugins
#   provider      the mock OAuth2 provider itself
#   dovecot       imtest, pop3test, smtptest through the plugin
#   e2e-helper    the plugin asking `serve`, end to end
#   serve         the socket server (fake core: mb-fake-serve) and the
#                 real one under load, a hanging endpoint, daemonised
#   serve-pidfile serve --pidfile without systemd
#   serve-user    serve --user: bind as root, run as the state's owner
#   token         `mailbearer token`: refresh, single flight, keep-alive,
#                 a reply lost after the provider spent the token
#   durable       nothing lost: bad 2xx replies, full or read-only disks,
#                 SIGKILL at every point, FIFOs, a persisted rejection
#   leak, passcmd secrets never leak; honest answers for PassCmd users
#   cc            flow = client_credentials (Microsoft 365 app-only)
#   sa            flow = service_account (Google Workspace app-only)
#   authorize     the loopback, paste and device flows, end to end
#   ops           status, import, revoke, notify, log lines
#   doctor        every FAIL line doctor claims to detect
#   conf, config  the configuration: FIFOs, root's file
#   plugin        the plugin's messages (a socket missing in a chroot)
#   postfix       Postfix as the SMTP client: password mode, serve, no TLS,
#                 a password to a server offering every mechanism,
#                 a burst across token expiries
#   client        mbsync, msmtp, mutt
#   etcd          the 3-node etcd test cluster (tests/lib/etcd.sh) itself
#   ms            a fake Microsoft IMAP/SMTP server and what the logs say
#   fleet         a fleet on a real etcd: store migrate and rekey,
#                 doctor's and status's cluster lines, serve's watch and
#                 quorum loss (test-fleet-serve); three hosts and a 3-node
#                 cluster: one refresh per lifetime, hosts killed at each
#                 point of a refresh, nodes lost and back; a hostile
#                 etcd gateway (test-fleet-hostile, fixtures/fake-etcd.py)
mb_integration_tests = tests/integration/test-load.sh \
	tests/integration/test-provider.sh \
	tests/integration/test-dovecot-imap.sh \
	tests/integration/test-dovecot-pop3.sh \
	tests/integration/test-dovecot-submission.sh \
	tests/integration/test-e2e-helper.sh \
	tests/integration/test-serve.sh \
	tests/integration/test-serve-engine.sh \
	tests/integration/test-serve-sigterm.sh \
	tests/integration/test-serve-hangup.sh \
	tests/integration/test-postfix-password.sh \
	tests/integration/test-postfix-helper.sh \
	tests/integration/test-postfix-notls.sh \
	tests/integration/test-postfix-mechs.sh \
	tests/integration/test-postfix-burst.sh \
	tests/integration/test-client-mbsync.sh \
	tests/integration/test-client-mbsync-password.sh \
	tests/integration/test-client-msmtp.sh \
	tests/integration/test-client-mutt.sh \
	tests/integration/test-ms-server.sh \
	tests/integration/test-etcd-cluster.sh
if MB_ALL_TESTS
TESTS += $(mb_integration_tests)
endif
mb_helper_integration_tests = \
	tests/integration/test-token.sh \
	tests/integration/test-token-reads.sh \
	tests/integration/test-token-flight.sh \
	tests/integration/test-fleet-serve.sh \
	tests/integration/test-token-keepalive.sh \
	tests/integration/test-token-lostreply.sh \
	tests/integration/test-token-owner.sh \
	tests/integration/test-token-recover.sh \
	tests/integration/test-durable-badreply.sh \
	tests/integration/test-durable-disk.sh \
	tests/integration/test-durable-crash.sh \
	tests/integration/test-durable-fifo.sh \
	tests/integration/test-durable-rejected.sh \
	tests/integration/test-leak-redact.sh \
	tests/integration/test-leak-cancel.sh \
	tests/integration/test-leak-dumpable.sh \
	tests/integration/test-passcmd-truth.sh \
	tests/integration/test-cc-token.sh \
	tests/integration/test-cc-flight.sh \
	tests/integration/test-cc-serve.sh \
	tests/integration/test-sa-token.sh \
	tests/integration/test-sa-serve.sh \
	tests/integration/test-authorize-loopback.sh \
	tests/integration/test-authorize-paste.sh \
	tests/integration/test-authorize-device.sh \
	tests/integration/test-authorize-e2e.sh \
	tests/integration/test-ops-status.sh \
	tests/integration/test-fleet-store.sh \
	tests/integration/test-fleet-hosts.sh \
	tests/integration/test-fleet-kill.sh \
	tests/integration/test-fleet-quorum.sh \
	tests/integration/test-fleet-hostile.sh \
	tests/integration/test-ops-help.sh \
	tests/integration/test-ops-provider-text.sh \
	tests/integration/test-ops-import.sh \
	tests/integration/test-ops-revoke.sh \
	tests/integration/test-ops-notify.sh \
	tests/integration/test-ops-log.sh \
	tests/integration/test-doctor-good.sh \
	tests/integration/test-doctor-local.sh \
	tests/integration/test-doctor-postfix.sh \
	tests/integration/test-doctor-login.sh \
	tests/integration/test-serve-daemon.sh \
	tests/integration/test-serve-real.sh \
	tests/integration/test-serve-pending.sh \
	tests/integration/test-serve-valid.sh \
	tests/integration/test-serve-unsendable.sh \
	tests/integration/test-serve-pidfile.sh \
	tests/integration/test-serve-user.sh \
	tests/integration/test-serve-user-race.sh \
	tests/integration/test-conf-fifo.sh \
	tests/integration/test-config-root.sh \
	tests/integration/test-plugin-socket-why.sh
if MB_ALL_TESTS
if TOKENHELPER
TESTS += $(mb_helper_integration_tests)
endif
endif
EXTRA_DIST += tests/integration/local.mk $(mb_integration_tests) \
	$(mb_helper_integration_tests)
