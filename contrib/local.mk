# SPDX-License-Identifier: MIT
# Installed data: systemd units (system and per-user), the example
# configuration and the usage guides.  The units are made from *.in at
# make time (STYLE.md 4.2), so that `make prefix=...` and the configured
# directories end up in them.  The unit directories come from configure
# (--with-systemdsystemunitdir, --with-systemduserunitdir).
postfix_queue_dir = /var/spool/postfix
examplesdir = $(docdir)/examples

mb_units_in = contrib/mailbearer.service.in contrib/mailbearer.socket.in \
	contrib/mailbearer-postfix.socket.in
mb_user_units_in = contrib/user/mailbearer.service.in \
	contrib/user/mailbearer.socket.in
EXTRA_DIST += $(mb_units_in) $(mb_user_units_in) contrib/local.mk

if TOKENHELPER
systemdsystemunit_DATA = contrib/mailbearer.service \
	contrib/mailbearer.socket contrib/mailbearer-postfix.socket
systemduserunit_DATA = contrib/user/mailbearer.service \
	contrib/user/mailbearer.socket
examples_DATA = contrib/mailbearer.conf.example
dist_doc_DATA = README.md doc/usage-token.md doc/usage-serve.md \
	doc/usage-postfix.md doc/systemd.md doc/plugin.md doc/protocol.md \
	doc/status-json.md doc/google-workspace.md
endif
CLEANFILES += contrib/mailbearer.service contrib/mailbearer.socket \
	contrib/mailbearer-postfix.socket contrib/user/mailbearer.service \
	contrib/user/mailbearer.socket

mb_edit = sed \
	-e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@mb_socket[@]|$(mb_socket)|g' \
	-e 's|@mb_user[@]|$(mb_user)|g' \
	-e 's|@postfix_queue_dir[@]|$(postfix_queue_dir)|g'

# Rebuilt when the Makefile changes (a new prefix), written atomically;
# a placeholder left unsubstituted is an error.
mb_unit_gen = $(AM_V_GEN)$(MKDIR_P) contrib/user && rm -f $@ $@.tmp && \
	$(mb_edit) $(top_srcdir)/$@.in >$@.tmp && \
	if grep -n '@[a-z_]*@' $@.tmp; then \
		echo "$@: unsubstituted variable" >&2; rm -f $@.tmp; exit 1; \
	fi && mv $@.tmp $@
contrib/mailbearer.service: contrib/mailbearer.service.in Makefile
	$(mb_unit_gen)
contrib/mailbearer.socket: contrib/mailbearer.socket.in Makefile
	$(mb_unit_gen)
contrib/mailbearer-postfix.socket: contrib/mailbearer-postfix.socket.in Makefile
	$(mb_unit_gen)
contrib/user/mailbearer.service: contrib/user/mailbearer.service.in Makefile
	$(mb_unit_gen)
contrib/user/mailbearer.socket: contrib/user/mailbearer.socket.in Makefile
	$(mb_unit_gen)
