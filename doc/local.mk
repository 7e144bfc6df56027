# Documentation: man pages and the wire protocol.
EXTRA_DIST += doc/protocol.md
