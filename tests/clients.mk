# End to end with the clients people run (issue 8): the real mbsync,
# msmtp and mutt binaries from Debian against the private Dovecot and the
# mock provider on 127.0.0.1, through our plugin or `mailbearer token`.
# Each test skips when its client or Dovecot is missing, or without root.
# test-postfix-burst: one chrooted smtp(8) delivering many messages across
# token expiries, and the plugin's message for a socket missing in the
# chroot.  test-ms-server: a fake Microsoft IMAP/SMTP server
# (tests/fake-ms-server.py) and what the plugin's and serve's logs say.
TESTS += tests/test-client-mbsync.sh tests/test-client-msmtp.sh \
	tests/test-client-mutt.sh tests/test-postfix-burst.sh \
	tests/test-ms-server.sh

EXTRA_DIST += \
	tests/test-client-mbsync.sh tests/test-client-msmtp.sh \
	tests/test-client-mutt.sh tests/test-postfix-burst.sh \
	tests/test-ms-server.sh tests/fake-ms-server.py
