#!/usr/bin/env python3
"""mockctl.py - drive mock_oauth2.py's control interface from tests.

  mockctl.py [--url URL] [--ca CA] COMMAND ...

URL and CA default to $MB_PROVIDER_URL and $MB_CA (set by
tests/lib-servers.sh start_provider).  Commands:

  account USER [--refresh-token RT] [--client-id ID] [--client-secret S]
          [--rotation none|rotate|strict] [--style google|microsoft]
          [--access-ttl N] [--refresh-ttl N] [--scope S] [--token-bytes N]
                                  create/replace; prints the refresh token
  app CLIENT_ID --user USER [--client-secret S] [--cert PEM-FILE]
          [--access-ttl N] [--scope S]
                                  client credentials app for USER's mailbox
                                  (mock_cc.py); prints the x5t#S256
  authorize-mode MODE...          next /authorize answers: ok, deny,
                                  wrong_state, no_state, as:USER (signs
                                  in as USER) (mock_authz.py)
  device [--interval N] [--expires-in N] [--script a,b,...]
                                  next device codes; script of answers:
                                  pending, slow_down, deny, expire
  device-approve USER [--user-code C] / device-deny USER [--user-code C]
                                  the user signs in (or declines); prints 1
  devices                         device codes with poll gaps (JSON)
  issue USER [--ttl N] [--scope S] [--token-bytes N]
                                  prints a new access token
  revoke USER [--what access|refresh|all] [--reason R] [--token T]
  expire USER [--what access|refresh|all] [--token T]
                                  print the number of tokens changed
  fault ENDPOINT KIND [--count N] [--delay S] [--retry-after S] [--size N]
        [--status N] [--error CODE]
        ENDPOINT: token, introspect or '*'; KIND: an HTTP status (500, 503,
        429...), drop, slow, late, invalid_grant, invalid_client, garbage, huge,
        content_type, truncated, empty, echo, echo_json, bad_*
  counters                        prints all counters as JSON
  count PATH                      prints one counter (0 if absent), e.g.
                                  endpoints.token, users.alice@x.refresh
  accounts                        prints the accounts as JSON
  reset [counters|faults|all]
  health                          exit 0 when the provider answers
  raw METHOD PATH [NAME=VALUE...] [--basic ID:SECRET] [--content-type T]
      [--headers]                 send a form-encoded request to PATH of the
                                  provider (e.g. /token) and print the HTTP
                                  status on the first line, then the headers
                                  (with --headers), then the body; exit 3
                                  when the connection failed

Exit status: 0 on success, 1 on a control error, 2 on usage errors.
"""

import argparse
import base64
import http.client
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request


def call(url, ca, method, path, body=None, timeout=10):
    ctx = ssl.create_default_context(cafile=ca)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url.rstrip("/") + path, data=data,
                                 method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, context=ctx,
                                    timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        sys.stderr.write("mockctl: %s: %s\n" % (e.code, e.read()[:300]))
        sys.exit(1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        sys.stderr.write("mockctl: %s\n" % (e,))
        sys.exit(1)


def raw(url, ca, a):
    """Plain HTTPS request; prints status, headers, body."""
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=ca)
    body = urllib.parse.urlencode(
        [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in a.params])
    hdrs = {"Content-Type": a.content_type}
    if a.basic:
        hdrs["Authorization"] = "Basic " + base64.b64encode(
            a.basic.encode()).decode()
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx,
                                       timeout=a.timeout)
    try:
        conn.request(a.method, a.path,
                     body=body.encode() if a.method != "GET" else None,
                     headers=hdrs)
        r = conn.getresponse()
        data = r.read()
    except (OSError, http.client.HTTPException) as e:
        sys.stderr.write("mockctl: %s\n" % (e,))
        return 3
    finally:
        conn.close()
    out = sys.stdout.buffer
    out.write(b"%d\n" % r.status)
    if a.headers:
        for k, v in r.getheaders():
            out.write(("%s: %s\n" % (k, v)).encode())
        out.write(b"\n")
    out.write(data + b"\n")
    return 0


def main():
    ap = argparse.ArgumentParser(
        description="control the mock OAuth2 provider",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--url", default=os.environ.get("MB_PROVIDER_URL"))
    ap.add_argument("--ca", default=os.environ.get("MB_CA"))
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("account")
    p.add_argument("user")
    p.add_argument("--refresh-token")
    p.add_argument("--client-id", default="mock-client")
    p.add_argument("--client-secret")
    p.add_argument("--rotation", default="none",
                   choices=("none", "rotate", "strict"))
    p.add_argument("--style", default="google",
                   choices=("google", "microsoft"))
    p.add_argument("--access-ttl", type=int, default=3600)
    p.add_argument("--refresh-ttl", type=int)
    p.add_argument("--scope")
    p.add_argument("--token-bytes", type=int, default=0)

    p = sub.add_parser("app")
    p.add_argument("client_id")
    p.add_argument("--user", required=True)
    p.add_argument("--client-secret")
    p.add_argument("--cert", help="PEM certificate file to register")
    p.add_argument("--access-ttl", type=int)
    p.add_argument("--scope")

    # mock_authz.py: the authorization code and device grants.
    p = sub.add_parser("authorize-mode")
    p.add_argument("modes", nargs="+",
                   help="ok, deny, wrong_state, no_state or as:USER")
    p = sub.add_parser("device")
    p.add_argument("--interval", type=int)
    p.add_argument("--expires-in", type=int)
    p.add_argument("--script", help="comma-separated: pending, slow_down, "
                   "deny, expire")
    for name in ("device-approve", "device-deny"):
        p = sub.add_parser(name)
        p.add_argument("user")
        p.add_argument("--user-code")
    sub.add_parser("devices")

    p = sub.add_parser("issue")
    p.add_argument("user")
    p.add_argument("--ttl", type=int)
    p.add_argument("--scope")
    p.add_argument("--token-bytes", type=int)

    for name in ("revoke", "expire"):
        p = sub.add_parser(name)
        p.add_argument("user")
        p.add_argument("--what", default="all",
                       choices=("access", "refresh", "all"))
        p.add_argument("--token")
        if name == "revoke":
            p.add_argument("--reason", default="revoked",
                           help="revoked, expired, reused (error text)")

    p = sub.add_parser("fault")
    p.add_argument("endpoint", choices=("token", "introspect", "*"))
    p.add_argument("kind")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--delay", type=float)
    p.add_argument("--retry-after", type=int)
    p.add_argument("--size", type=int)
    p.add_argument("--status", type=int, help="echo faults (400)")
    p.add_argument("--error", help="echo faults (invalid_request)")

    sub.add_parser("counters")
    p = sub.add_parser("count")
    p.add_argument("path")
    sub.add_parser("accounts")
    p = sub.add_parser("reset")
    p.add_argument("what", nargs="?", default="all",
                   choices=("counters", "faults", "all"))
    sub.add_parser("health")
    p = sub.add_parser("raw")
    p.add_argument("method")
    p.add_argument("path")
    p.add_argument("params", nargs="*")
    p.add_argument("--basic")
    p.add_argument("--content-type",
                   default="application/x-www-form-urlencoded")
    p.add_argument("--headers", action="store_true")
    p.add_argument("--timeout", type=float, default=30)

    a = ap.parse_args()
    if not a.url or not a.ca:
        ap.error("--url and --ca (or MB_PROVIDER_URL and MB_CA) needed")

    def post(path, body):
        # Drop unset options so that the provider's defaults apply.
        return call(a.url, a.ca, "POST", path,
                    {k: v for k, v in body.items() if v is not None})

    if a.cmd == "account":
        r = post("/control/account", {
            "user": a.user, "refresh_token": a.refresh_token,
            "client_id": a.client_id, "client_secret": a.client_secret,
            "rotation": a.rotation, "style": a.style,
            "access_ttl": a.access_ttl, "refresh_ttl": a.refresh_ttl,
            "scope": a.scope, "token_bytes": a.token_bytes})
        print(r["refresh_token"])
    elif a.cmd == "app":
        cert = None
        if a.cert:
            with open(a.cert) as f:
                cert = f.read()
        r = post("/control/app", {
            "client_id": a.client_id, "user": a.user,
            "client_secret": a.client_secret, "certificate": cert,
            "access_ttl": a.access_ttl, "scope": a.scope})
        print(r["x5t#S256"] or "")
    elif a.cmd == "authorize-mode":
        print(post("/control/authorize", {"modes": a.modes})["queued"])
    elif a.cmd == "device":
        body = {"interval": a.interval, "expires_in": a.expires_in}
        if a.script is not None:
            body["script"] = [x for x in a.script.split(",") if x]
        print(json.dumps(post("/control/device", body), sort_keys=True))
    elif a.cmd in ("device-approve", "device-deny"):
        r = post("/control/device/" + a.cmd[7:],
                 {"user": a.user, "user_code": a.user_code})
        print(r["changed"])
    elif a.cmd == "devices":
        print(json.dumps(call(a.url, a.ca, "GET", "/control/devices"),
                         indent=1, sort_keys=True))
    elif a.cmd == "issue":
        r = post("/control/issue", {"user": a.user, "ttl": a.ttl,
                                    "scope": a.scope,
                                    "token_bytes": a.token_bytes})
        print(r["access_token"])
    elif a.cmd in ("revoke", "expire"):
        r = post("/control/" + a.cmd, {
            "user": a.user, "what": a.what, "token": a.token,
            "reason": getattr(a, "reason", None)})
        print(r["changed"])
    elif a.cmd == "fault":
        post("/control/fault", {
            "endpoint": a.endpoint, "kind": a.kind, "count": a.count,
            "delay": a.delay, "retry_after": a.retry_after,
            "size": a.size, "status": a.status, "error": a.error})
    elif a.cmd == "counters":
        print(json.dumps(call(a.url, a.ca, "GET", "/control/counters"),
                         indent=1, sort_keys=True))
    elif a.cmd == "count":
        # The path splits at the first dot and, for users, at the last one
        # (user names contain dots).
        c = call(a.url, a.ca, "GET", "/control/counters")
        top, _, rest = a.path.partition(".")
        node = c.get(top, {})
        if top == "users":
            user, _, field = rest.rpartition(".")
            val = node.get(user, {}).get(field, 0)
        elif rest:
            val = node.get(rest, 0) if isinstance(node, dict) else 0
        else:
            val = node if isinstance(node, int) else 0
        print(val)
    elif a.cmd == "accounts":
        print(json.dumps(call(a.url, a.ca, "GET", "/control/accounts"),
                         indent=1, sort_keys=True))
    elif a.cmd == "reset":
        post("/control/reset", {"what": a.what})
    elif a.cmd == "raw":
        return raw(a.url, a.ca, a)
    elif a.cmd == "health":
        call(a.url, a.ca, "GET", "/control/health", timeout=3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
