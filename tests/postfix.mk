# Postfix as the real SMTP client, end to end: a private Postfix instance
# (tests/lib-postfix.sh, templates in tests/postfix/) relays through the
# private Dovecot with our plugin, in password mode and through
# `mailbearer serve`, with TLS enforced; and a session without STARTTLS
# that must never carry a token.  Needs root; skips otherwise.
TESTS += tests/test-postfix-password.sh tests/test-postfix-helper.sh \
	tests/test-postfix-notls.sh

EXTRA_DIST += \
	tests/lib-postfix.sh \
	tests/postfix/main.cf.in \
	tests/postfix/master.cf.in \
	tests/postfix/notls-smtpd.py \
	tests/test-postfix-password.sh \
	tests/test-postfix-helper.sh \
	tests/test-postfix-notls.sh \
	doc/usage-postfix.md
