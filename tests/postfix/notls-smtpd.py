#!/usr/bin/env python3
"""A recording SMTP server for tests/test-postfix-notls.sh.

Listens on 127.0.0.1, never offers STARTTLS, advertises
AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER (what a server looks like to a client
whose STARTTLS was stripped), and appends every line it receives, raw, to
the record file (flushed per line).  AUTH is refused with 535; mail is
accepted.  Python standard library only; every read has a timeout.

usage: notls-smtpd.py --record FILE --port-file FILE
"""

import argparse
import os
import socket
import socketserver
import sys

EHLO_REPLY = (b"250-mb-notls.localdomain\r\n"
              b"250-PIPELINING\r\n"
              b"250-AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n"
              b"250-AUTH=PLAIN LOGIN XOAUTH2 OAUTHBEARER\r\n"
              b"250 8BITMIME\r\n")


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def record(self, line):
        with open(self.server.record, "ab") as f:
            f.write(line if line.endswith(b"\n") else line + b"\n")
            f.flush()

    def reply(self, data):
        self.wfile.write(data)
        self.wfile.flush()

    def handle(self):
        self.reply(b"220 mb-notls.localdomain ESMTP (no STARTTLS)\r\n")
        in_data = False
        while True:
            try:
                line = self.rfile.readline(65536)
            except (socket.timeout, OSError):
                return
            if not line:
                return
            self.record(line)
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    self.reply(b"250 2.0.0 Ok: queued\r\n")
                continue
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply(EHLO_REPLY)
            elif verb == b"AUTH":
                self.reply(b"535 5.7.8 Authentication failed\r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply(b"250 2.0.0 Ok\r\n")
            elif verb == b"DATA":
                in_data = True
                self.reply(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                self.reply(b"221 2.0.0 Bye\r\n")
                return
            elif verb == b"STARTTLS":
                self.reply(b"502 5.5.1 Not offered\r\n")
            else:
                # A base64 continuation of an AUTH exchange or junk.
                self.reply(b"535 5.7.8 Authentication failed\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.record = args.record
    open(args.record, "ab").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
