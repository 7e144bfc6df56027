# SPDX-License-Identifier: MIT
# Documentation: man pages and the wire protocol.
EXTRA_DIST += doc/protocol.md
# The helper's man pages (token core).
if TOKENHELPER
dist_man_MANS += doc/mailbearer.1 doc/mailbearer.conf.5
else
EXTRA_DIST += doc/mailbearer.1 doc/mailbearer.conf.5
endif
EXTRA_DIST += doc/status-json.md
EXTRA_DIST += doc/usage-token.md contrib/mailbearer.conf.example
