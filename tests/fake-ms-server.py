#!/usr/bin/env python3
"""A fake Microsoft 365 IMAP or SMTP server on 127.0.0.1 for the tests:
it answers every XOAUTH2/OAUTHBEARER attempt the way Microsoft does (no
error challenge, an immediate failure: IMAP "NO AUTHENTICATE failed.",
SMTP "535 5.7.3 Authentication unsuccessful [...]"), or accepts it when
the token is the one in ACCEPT-FILE (if given and present).  Writes the
decoded login names (never the token) to LOG.  Serves connections one
after another until killed (each bounded by a 10 s timeout).

Usage: fake-ms-server.py imap|smtp PORT-FILE LOG [ACCEPT-FILE]"""
import base64
import os
import socket
import sys

proto, port_file, log = sys.argv[1], sys.argv[2], sys.argv[3]
accept_file = sys.argv[4] if len(sys.argv) > 4 else None


def note(msg):
    with open(log, "a") as f:
        f.write(msg + "\n")


def verdict(b64):
    """True if the initial response carries the accepted token."""
    try:
        raw = base64.b64decode(b64.strip(), validate=False)
    except ValueError:
        note("bad base64")
        return False
    user = b"?"
    tok = b""
    for part in raw.replace(b"\x01", b"\n").split(b"\n"):
        if part.startswith(b"user="):
            user = part[5:]
        elif part.startswith(b"auth=Bearer "):
            tok = part[12:]
        elif part.startswith(b"n,a="):
            user = part[4:].rstrip(b",")
    good = False
    if accept_file and os.path.exists(accept_file):
        with open(accept_file, "rb") as f:
            good = tok != b"" and tok == f.read().strip()
    note("login user=%s token=%s result=%s" % (
        user.decode("ascii", "replace"),
        "present" if tok else "absent", "ok" if good else "refused"))
    return good


def imap(f):
    f.write(b"* OK The Microsoft Exchange IMAP4 service is ready.\r\n")
    f.flush()
    for line in f:
        parts = line.rstrip(b"\r\n").split(b" ")
        tag = parts[0]
        cmd = parts[1].upper() if len(parts) > 1 else b""
        if cmd == b"CAPABILITY":
            f.write(b"* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN "
                    b"AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT "
                    b"CHILDREN IDLE NAMESPACE LITERAL+\r\n"
                    + tag + b" OK CAPABILITY completed.\r\n")
        elif cmd == b"AUTHENTICATE":
            if len(parts) > 3:
                ir = parts[3]
            else:
                f.write(b"+ \r\n")
                f.flush()
                ir = f.readline().rstrip(b"\r\n")
            if verdict(ir):
                f.write(tag + b" OK AUTHENTICATE completed.\r\n")
            else:
                f.write(tag + b" NO AUTHENTICATE failed.\r\n")
        elif cmd == b"LOGOUT":
            f.write(b"* BYE Microsoft Exchange Server IMAP4 server "
                    b"signing off.\r\n" + tag + b" OK LOGOUT completed.\r\n")
            f.flush()
            return
        else:
            f.write(tag + b" BAD Command Argument Error. 11\r\n")
        f.flush()


def smtp(f):
    f.write(b"220 MS.example.outlook.office365.com Microsoft ESMTP MAIL "
            b"Service ready\r\n")
    f.flush()
    for line in f:
        parts = line.rstrip(b"\r\n").split(b" ")
        cmd = parts[0].upper()
        if cmd in (b"EHLO", b"HELO"):
            f.write(b"250-MS.example.outlook.office365.com Hello\r\n"
                    b"250-SIZE 157286400\r\n250-PIPELINING\r\n"
                    b"250-AUTH LOGIN XOAUTH2\r\n250 SMTPUTF8\r\n")
        elif cmd == b"AUTH":
            if len(parts) > 2:
                ir = parts[2]
            else:
                f.write(b"334 \r\n")
                f.flush()
                ir = f.readline().rstrip(b"\r\n")
            if verdict(ir):
                f.write(b"235 2.7.0 Authentication successful\r\n")
            else:
                f.write(b"535 5.7.3 Authentication unsuccessful "
                        b"[MS.example.prod.outlook.com 2026-01-01T00:00:00."
                        b"000Z 08DC0000000000]\r\n")
        elif cmd == b"QUIT":
            f.write(b"221 2.0.0 Service closing transmission channel\r\n")
            f.flush()
            return
        else:
            f.write(b"502 5.3.3 Command not implemented\r\n")
        f.flush()


srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
with open(port_file + ".t", "w") as pf:
    pf.write(str(srv.getsockname()[1]))
os.rename(port_file + ".t", port_file)
while True:
    conn, _ = srv.accept()
    conn.settimeout(10)
    try:
        with conn.makefile("rwb") as f:
            (imap if proto == "imap" else smtp)(f)
    except (OSError, ValueError):
        pass
    conn.close()
