#!/usr/bin/env python3
"""A one-connection SMTP server on 127.0.0.1 answering AUTH the way
Microsoft 365 does (no challenge, an immediate 535): for the doctor's
--login advice.  Usage: doctor-ms-smtp.py PORT-FILE REPLY
(a "|" in REPLY separates the lines of a multi-line reply)"""
import socket
import sys

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
srv.settimeout(30)
with open(sys.argv[1] + ".t", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".t", sys.argv[1])
conn, _ = srv.accept()
conn.settimeout(10)
f = conn.makefile("rwb")
f.write(b"220 ms.example ESMTP\r\n")
f.flush()
for line in f:
    cmd = line.split(b" ")[0].strip().upper()
    if cmd in (b"EHLO", b"HELO"):
        f.write(b"250-ms.example\r\n250 AUTH LOGIN XOAUTH2\r\n")
    elif cmd == b"AUTH":
        f.write(sys.argv[2].replace("|", "\r\n").encode() + b"\r\n")
    elif cmd == b"QUIT":
        f.write(b"221 bye\r\n")
        f.flush()
        break
    else:
        f.write(b"502 no\r\n")
    f.flush()
conn.close()
