#!/usr/bin/env python3
"""mock_oauth2.py - a mock OAuth2 provider for the mailbearer tests.

Python 3 standard library only.  HTTPS on 127.0.0.1 (or ::1) with a
certificate made by tests/ca.sh; port 0 by default, the chosen port is
written to --port-file once the server listens.  All state is in memory.

Endpoints (see README.md next to this file for the full interface):

  POST /token        RFC 6749 token endpoint (section 3.2, 5.1, 5.2, 6):
                     grant_type=refresh_token today; the grant table
                     GRANTS is where authorization_code, client_credentials
                     and the device grant slot in.
  POST /introspect   RFC 7662 token introspection (what Dovecot's
                     passdb oauth2 calls with introspection_mode = post).
  /control/...       JSON control interface for the tests: accounts,
                     direct token issue, revoke/expire, fault injection,
                     counters, reset.

Tokens are never logged in full: the log shows a short prefix only.
SIGTERM and SIGINT shut the server down cleanly; every wait is bounded.
"""

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Upper bounds on everything a request can make us do.
MAX_BODY = 1 << 20          # request bodies we accept
MAX_DELAY = 120.0           # "slow" fault
MAX_HUGE = 64 << 20         # "huge" fault body
CONN_TIMEOUT = 30           # idle connection / TLS handshake timeout

GOOGLE_SCOPE = "https://mail.google.com/"


def short(tok):
    """A loggable form of a secret: a prefix and the length."""
    if not tok:
        return "-"
    return "%s...(%d)" % (tok[:6], len(tok))


def now():
    return time.time()


class HttpReply(Exception):
    """Raised by handlers: an HTTP reply to send as is."""

    def __init__(self, status, body, headers=None, ctype="application/json"):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.ctype = ctype


def json_reply(status, obj, headers=None):
    return HttpReply(status, json.dumps(obj).encode(), headers)


class Account:
    """One user at the provider: a client registration and its tokens."""

    def __init__(self, user, client_id, client_secret=None, rotation="none",
                 style="google", access_ttl=3600, refresh_ttl=None,
                 scope=GOOGLE_SCOPE, token_bytes=0):
        if rotation not in ("none", "rotate", "strict"):
            raise ValueError("rotation must be none, rotate or strict")
        if style not in ("google", "microsoft"):
            raise ValueError("style must be google or microsoft")
        self.user = user
        self.client_id = client_id
        self.client_secret = client_secret
        self.rotation = rotation
        self.style = style
        self.access_ttl = int(access_ttl)
        self.refresh_ttl = None if refresh_ttl is None else int(refresh_ttl)
        self.scope = scope
        self.token_bytes = int(token_bytes)


class State:
    """All provider state, guarded by one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.accounts = {}      # user -> Account
        self.refresh = {}       # refresh token -> dict
        self.access = {}        # access token -> dict
        self.faults = {}        # endpoint -> list of dicts
        self.reset_counters()

    def reset_counters(self):
        self.counters = {"endpoints": {}, "grants": {}, "users": {},
                         "faults_fired": 0, "errors": {}}

    # Callers hold self.lock for everything below.
    def bump(self, kind, key, user=None, field=None):
        d = self.counters[kind]
        d[key] = d.get(key, 0) + 1
        if user is not None:
            u = self.counters["users"].setdefault(user, {})
            f = field or key
            u[f] = u.get(f, 0) + 1

    def new_access(self, user, ttl, scope, client_id, size=0):
        tok = "mbat-" + secrets.token_urlsafe(24)
        if size > len(tok):
            # Microsoft's tokens are JWTs of several KB: pad to size.
            tok += "." + secrets.token_urlsafe(size)[:size - len(tok) - 1]
        self.access[tok] = {"user": user, "exp": now() + ttl, "scope": scope,
                            "client_id": client_id, "revoked": False}
        return tok

    def new_refresh(self, user, ttl=None, tok=None):
        tok = tok or "mbrt-" + secrets.token_urlsafe(24)
        self.refresh[tok] = {"user": user, "state": "valid",
                             "exp": None if ttl is None else now() + ttl,
                             "reason": None, "issued": now()}
        return tok

    def pop_fault(self, endpoint):
        for key in (endpoint, "*"):
            lst = self.faults.get(key)
            while lst:
                f = lst[0]
                f["count"] -= 1
                if f["count"] <= 0:
                    lst.pop(0)
                self.counters["faults_fired"] += 1
                return dict(f)
        return None


STATE = State()
STOP = threading.Event()
LOG = None
LOG_LOCK = threading.Lock()


def log(msg):
    if LOG is None:
        return
    with LOG_LOCK:
        LOG.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
        LOG.flush()


# ---------------------------------------------------------------------------
# Error bodies, in the two providers' styles (see PROVIDERS.md).

GOOGLE_ERRORS = {
    "invalid_grant": "Token has been expired or revoked.",
    "invalid_client": "The OAuth client was not found.",
    "invalid_request": "Bad Request",
    "unsupported_grant_type": "Invalid grant_type",
    "invalid_scope": "Some requested scopes were invalid.",
}

# reason -> Google's description when it differs from the error's.
GOOGLE_REASONS = {
    "no_secret": "client_secret is missing.",
    "unknown": "Bad Request",
}

# error or reason -> (AADSTS code, text)
MS_ERRORS = {
    "expired": (700082, "The refresh token has expired due to inactivity. "
                "The token was issued on %s and was inactive for 90:00:00."),
    "revoked": (50173, "The provided grant has expired due to it being "
                "revoked, a fresh auth token is needed. The user might have "
                "changed or reset their password."),
    "reused": (70000, "The provided value for the 'refresh_token' is not "
               "valid. The refresh token has already been redeemed."),
    "unknown": (9002313, "Invalid request. Request is malformed or invalid."),
    "invalid_grant": (70000, "Provided grant is invalid or malformed."),
    "invalid_client": (7000215, "Invalid client secret provided. Ensure the "
                       "secret being sent in the request is the client "
                       "secret value, not the client secret ID."),
    "no_secret": (7000218, "The request body must contain the following "
                  "parameter: 'client_assertion' or 'client_secret'."),
    "public_secret": (700025, "Client is public so neither "
                      "'client_assertion' nor 'client_secret' should be "
                      "presented."),
    "no_client": (700016, "Application with identifier '%s' was not found "
                  "in the directory 'mock'."),
    "invalid_request": (900144, "The request body must contain the "
                        "following parameter: '%s'."),
    "unsupported_grant_type": (70003, "The app requested an unsupported "
                               "grant type '%s'."),
    "invalid_scope": (70011, "The provided request must include a 'scope' "
                      "input parameter. The provided value for the input "
                      "parameter 'scope' is not valid."),
}

STATUS_OF = {"invalid_client": 401}


def oauth_error(style, error, reason=None, arg=""):
    """An HttpReply carrying an RFC 6749 section 5.2 error in a style."""
    status = STATUS_OF.get(error, 400)
    with STATE.lock:
        STATE.bump("errors", error)
    if style == "microsoft":
        code, text = MS_ERRORS.get(reason) or MS_ERRORS.get(
            error, (90000, "Error."))
        if "%s" in text:
            text = text % (arg or time.strftime("%Y-%m-%dT%H:%M:%SZ"))
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        body = {
            "error": error,
            "error_description": "AADSTS%d: %s Trace ID: %s Correlation "
            "ID: %s Timestamp: %s" % (code, text, trace, corr, stamp),
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d"
            % code,
        }
        if reason == "expired":
            body["suberror"] = "token_expired"
    else:
        desc = GOOGLE_REASONS.get(reason) or \
            GOOGLE_ERRORS.get(error, "Bad Request")
        if error == "unsupported_grant_type" and arg:
            desc = "Invalid grant_type: " + arg
        body = {"error": error, "error_description": desc}
    return json_reply(status, body)


# ---------------------------------------------------------------------------
# Token endpoint.  RFC 6749:
#   2.3.1  client_id/client_secret in the body or HTTP Basic (form-encoded).
#   5.1    {"access_token", "token_type", "expires_in", "refresh_token"?,
#          "scope"?}, Cache-Control: no-store, Pragma: no-cache.
#   5.2    {"error", "error_description"?}; 400, or 401 for invalid_client.
#   6      grant_type=refresh_token, refresh_token, scope (optional, must
#          not exceed the original grant).

def client_auth(handler, form):
    """(client_id, client_secret or None) from Basic auth or the body."""
    hdr = handler.headers.get("Authorization", "")
    if hdr[:6].lower() == "basic ":
        try:
            raw = base64.b64decode(hdr[6:].strip(), validate=True).decode()
            cid, _, sec = raw.partition(":")
            return (urllib.parse.unquote_plus(cid),
                    urllib.parse.unquote_plus(sec))
        except (ValueError, UnicodeDecodeError):
            return (None, None)
    return (form.get("client_id"), form.get("client_secret"))


def check_client(acct, cid, secret):
    """Raises the provider's error when the client does not match."""
    st = acct.style
    if cid is None:
        raise oauth_error(st, "invalid_request", arg="client_id")
    if cid != acct.client_id:
        raise oauth_error(st, "invalid_client",
                          "no_client" if st == "microsoft" else None, cid)
    if acct.client_secret is not None:
        if not secret:
            raise oauth_error(st, "invalid_client" if st == "microsoft"
                              else "invalid_request", "no_secret")
        if not secrets.compare_digest(secret, acct.client_secret):
            raise oauth_error(st, "invalid_client")
    elif secret and st == "microsoft":
        raise oauth_error(st, "invalid_client", "public_secret")


def token_response(acct, user, scope, new_refresh):
    with STATE.lock:
        at = STATE.new_access(user, acct.access_ttl, scope, acct.client_id,
                              acct.token_bytes)
    body = {"access_token": at, "token_type": "Bearer",
            "expires_in": acct.access_ttl, "scope": scope}
    if acct.style == "microsoft":
        body["ext_expires_in"] = acct.access_ttl
    if new_refresh:
        body["refresh_token"] = new_refresh
    log("token issued user=%s access=%s refresh=%s" %
        (user, short(at), short(new_refresh)))
    return json_reply(200, body, {"Cache-Control": "no-store",
                                  "Pragma": "no-cache"})


def grant_refresh_token(handler, form):
    rt = form.get("refresh_token")
    cid, secret = client_auth(handler, form)
    with STATE.lock:
        rec = STATE.refresh.get(rt) if rt else None
        acct = STATE.accounts.get(rec["user"]) if rec else None
        # Unknown token: use the style of the client's account if any.
        style = acct.style if acct else next(
            (a.style for a in STATE.accounts.values()
             if a.client_id == cid), "google")
        if rec:
            u = STATE.counters["users"].setdefault(rec["user"], {})
            u["refresh"] = u.get("refresh", 0) + 1
    if not rt:
        raise oauth_error(style, "invalid_request", arg="refresh_token")
    if acct is None:
        raise oauth_error(style, "invalid_grant", "unknown")
    check_client(acct, cid, secret)
    scope = form.get("scope") or acct.scope
    if not set(scope.split()) <= set(acct.scope.split()):
        raise oauth_error(style, "invalid_scope")
    with STATE.lock:
        if rec["exp"] is not None and rec["exp"] <= now() and \
                rec["state"] == "valid":
            rec["state"], rec["reason"] = "dead", "expired"
        dead = rec["state"] != "valid"
        reason = rec["reason"] or "revoked"
        new_rt = None
        if not dead:
            if acct.rotation in ("rotate", "strict"):
                new_rt = STATE.new_refresh(acct.user, acct.refresh_ttl)
                if acct.rotation == "strict":
                    rec["state"], rec["reason"] = "dead", "reused"
            u = STATE.counters["users"].setdefault(acct.user, {})
            u["refresh_ok"] = u.get("refresh_ok", 0) + 1
    if dead:
        raise oauth_error(style, "invalid_grant", reason)
    return token_response(acct, acct.user, scope, new_rt)


# grant_type -> handler(handler, form): returns the success HttpReply,
# raises the error one.  The other RFC 6749
# grants (authorization_code, client_credentials) and RFC 8628's
# urn:ietf:params:oauth:grant-type:device_code are added here.
GRANTS = {
    "refresh_token": grant_refresh_token,
}


def do_token(handler, form):
    gt = form.get("grant_type", "")
    with STATE.lock:
        STATE.bump("grants", gt or "(none)")
    fn = GRANTS.get(gt)
    if fn is None:
        style = "google"
        cid, _ = client_auth(handler, form)
        with STATE.lock:
            for a in STATE.accounts.values():
                if a.client_id == cid:
                    style = a.style
        if not gt:
            raise oauth_error(style, "invalid_request", arg="grant_type")
        raise oauth_error(style, "unsupported_grant_type", arg=gt)
    raise fn(handler, form)


# ---------------------------------------------------------------------------
# Introspection, RFC 7662 section 2.1/2.2: POST token=... (form-encoded),
# optional token_type_hint; reply {"active": true, "scope", "client_id",
# "username", "token_type", "exp", "sub", ...} or {"active": false}.
# Dovecot 2.3 (introspection_mode = post) sends exactly "token=<token>" and
# reads username_attribute (we send both "username" and "email") and
# active_attribute/active_value ("active" / "true").

def do_introspect(handler, form):
    need = handler.server.introspect_auth
    if need is not None:
        cid, secret = client_auth(handler, {})
        if (cid, secret) != need:
            raise json_reply(401, {"error": "invalid_client"},
                             {"WWW-Authenticate": 'Basic realm="mock"'})
    tok = form.get("token")
    if tok is None:
        raise json_reply(400, {"error": "invalid_request"})
    with STATE.lock:
        STATE.bump("endpoints", "introspect_lookups")
        rec = STATE.access.get(tok)
        user = rec["user"] if rec else None
        if user:
            u = STATE.counters["users"].setdefault(user, {})
            u["introspect"] = u.get("introspect", 0) + 1
        active = bool(rec) and not rec["revoked"] and rec["exp"] > now()
        if active:
            u["introspect_active"] = u.get("introspect_active", 0) + 1
    log("introspect token=%s user=%s active=%s" % (short(tok), user, active))
    if not active:
        raise json_reply(200, {"active": False})
    raise json_reply(200, {"active": True, "username": user, "email": user,
                           "sub": user, "scope": rec["scope"],
                           "client_id": rec["client_id"],
                           "token_type": "Bearer", "exp": int(rec["exp"]),
                           "iat": int(rec["exp"]) - 1})


# ---------------------------------------------------------------------------
# Control interface: JSON in, JSON out, under /control/.

def ctl_account(body):
    user = body.get("user")
    if not user:
        raise json_reply(400, {"error": "user missing"})
    try:
        acct = Account(user, body.get("client_id", "mock-client"),
                       body.get("client_secret"),
                       body.get("rotation", "none"),
                       body.get("style", "google"),
                       body.get("access_ttl", 3600),
                       body.get("refresh_ttl"),
                       body.get("scope", GOOGLE_SCOPE),
                       body.get("token_bytes", 0))
    except (ValueError, TypeError) as e:
        raise json_reply(400, {"error": str(e)})
    with STATE.lock:
        STATE.accounts[user] = acct
        rt = STATE.new_refresh(user, acct.refresh_ttl,
                               body.get("refresh_token"))
    return {"user": user, "refresh_token": rt}


def ctl_issue(body):
    user = body.get("user")
    if not user:
        raise json_reply(400, {"error": "user missing"})
    with STATE.lock:
        acct = STATE.accounts.get(user)
        ttl = int(body.get("ttl", acct.access_ttl if acct else 3600))
        scope = body.get("scope", acct.scope if acct else GOOGLE_SCOPE)
        cid = acct.client_id if acct else "mock-client"
        size = int(body.get("token_bytes", acct.token_bytes if acct else 0))
        tok = STATE.new_access(user, ttl, scope, cid, size)
    log("issued user=%s access=%s ttl=%d" % (user, short(tok), ttl))
    return {"access_token": tok, "expires_in": ttl, "scope": scope}


def ctl_revoke(body, expire=False):
    """Revoke (or expire) a user's access and/or refresh tokens."""
    user = body.get("user")
    what = body.get("what", "all")
    reason = body.get("reason", "expired" if expire else "revoked")
    only = body.get("token")
    n = 0
    with STATE.lock:
        if what in ("access", "all"):
            for tok, rec in STATE.access.items():
                if rec["user"] == user and (only is None or only == tok):
                    if expire:
                        rec["exp"] = now() - 1
                    else:
                        rec["revoked"] = True
                    n += 1
        if what in ("refresh", "all"):
            for tok, rec in STATE.refresh.items():
                if rec["user"] == user and (only is None or only == tok) \
                        and rec["state"] == "valid":
                    rec["state"], rec["reason"] = "dead", reason
                    n += 1
    return {"changed": n}


# A real grant is made (refresh tokens rotate as usual) and its 2xx reply
# then gets one unusable field.
BAD_REPLY_KINDS = ("bad_expires_zero", "bad_expires_negative",
                   "bad_token_type", "bad_no_access_token",
                   "bad_access_token", "bad_trailing")
FAULT_KINDS = ("status", "429", "drop", "slow", "late", "invalid_grant",
               "invalid_client", "garbage", "huge", "content_type",
               "truncated", "empty", "echo", "echo_json") + BAD_REPLY_KINDS


def echo_reply(f, body):
    """The echo faults: an OAuth2 error whose error_description repeats
    what the client sent, as some providers do: the form body as
    received (URL-encoded), or (echo_json) its fields as JSON text with
    '/' escaped as '\\/'."""
    text = body.decode("utf-8", "replace")
    if f["kind"] == "echo_json":
        form = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        text = json.dumps(form).replace("/", "\\/")
    return json_reply(f["status"], {"error": f["error"],
                                    "error_description": "received " + text})


def spoil_reply(kind, r):
    """The bad_* faults: r is the success reply of a real grant."""
    if r.status // 100 != 2:
        return r
    body = json.loads(r.body)
    if kind == "bad_expires_zero":
        body["expires_in"] = 0
    elif kind == "bad_expires_negative":
        body["expires_in"] = -300
    elif kind == "bad_token_type":
        body["token_type"] = "MAC"
    elif kind == "bad_no_access_token":
        del body["access_token"]
    elif kind == "bad_access_token":
        body["access_token"] = "two words\u0001"
    r.body = json.dumps(body).encode()
    if kind == "bad_trailing":
        r.body += b" }garbage"
    return r


def ctl_fault(body):
    ep = body.get("endpoint", "token")
    kind = str(body.get("kind", ""))
    f = {"kind": kind, "count": int(body.get("count", 1))}
    if kind.isdigit():
        f["status"] = int(kind)
        f["kind"] = "429" if kind == "429" else "status"
    elif kind not in FAULT_KINDS:
        raise json_reply(400, {"error": "unknown fault kind",
                               "kinds": FAULT_KINDS})
    f["status"] = int(body.get("status", f.get("status", 500)))
    if kind in ("echo", "echo_json"):
        f["status"] = int(body.get("status") or 400)
        f["error"] = str(body.get("error") or "invalid_request")
    f["delay"] = min(float(body.get("delay", 5)), MAX_DELAY)
    f["retry_after"] = int(body.get("retry_after", 2))
    f["size"] = min(int(body.get("size", 4 << 20)), MAX_HUGE)
    if ep not in ("token", "introspect", "*"):
        raise json_reply(400, {"error": "endpoint: token, introspect or *"})
    with STATE.lock:
        STATE.faults.setdefault(ep, []).append(f)
    return {"queued": f}


def ctl_reset(body):
    what = body.get("what", "all")
    with STATE.lock:
        if what in ("counters", "all"):
            STATE.reset_counters()
        if what in ("faults", "all"):
            STATE.faults.clear()
        if what == "all":
            STATE.accounts.clear()
            STATE.refresh.clear()
            STATE.access.clear()
    return {"reset": what}


def ctl_accounts(_body):
    out = {}
    with STATE.lock:
        for user, a in STATE.accounts.items():
            out[user] = {
                "client_id": a.client_id, "rotation": a.rotation,
                "style": a.style, "access_ttl": a.access_ttl,
                "scope": a.scope,
                "refresh_tokens": [
                    {"token": t, "state": r["state"], "reason": r["reason"]}
                    for t, r in STATE.refresh.items() if r["user"] == user],
                "access_tokens": sum(1 for r in STATE.access.values()
                                     if r["user"] == user),
            }
    return out


def ctl_counters(_body):
    with STATE.lock:
        return json.loads(json.dumps(STATE.counters))


CONTROL = {
    ("POST", "/control/account"): ctl_account,
    ("POST", "/control/issue"): ctl_issue,
    ("POST", "/control/revoke"): ctl_revoke,
    ("POST", "/control/expire"): lambda b: ctl_revoke(b, expire=True),
    ("POST", "/control/fault"): ctl_fault,
    ("POST", "/control/reset"): ctl_reset,
    ("GET", "/control/accounts"): ctl_accounts,
    ("GET", "/control/counters"): ctl_counters,
    ("GET", "/control/health"): lambda b: {"ok": True, "pid": os.getpid()},
}


# Client credentials (grant, POST /control/app) live in mock_cc.py.
import mock_cc  # noqa: E402
mock_cc.install(sys.modules[__name__])

# (method, path) -> fn(handler, body), raising its HttpReply: endpoints
# beyond /token and /introspect.  The authorization code and device
# grants, GET /authorize and POST /devicecode live in mock_authz.py.
ROUTES = {}
import mock_authz  # noqa: E402
mock_authz.install(sys.modules[__name__])
# Revocation (RFC 7009; Google's /revoke and a generic /oauth2/revoke)
# lives in mock_revoke.py.
import mock_revoke  # noqa: E402
mock_revoke.install(sys.modules[__name__])


# ---------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-oauth2/1"
    timeout = CONN_TIMEOUT

    def setup(self):
        super().setup()
        self.request.settimeout(CONN_TIMEOUT)

    def log_message(self, fmt, *args):
        # The request line may carry a token in a query: log the path only.
        log("%s %s" % (self.address_string(),
                       (fmt % args).split("?")[0]))

    def send(self, status, body, headers=None, ctype="application/json"):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        try:
            n = int(n)
        except ValueError:
            raise json_reply(400, {"error": "invalid_request"})
        if n < 0 or n > MAX_BODY:
            raise json_reply(413, {"error": "request too large"})
        return self.rfile.read(n)

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            body = self.read_body()
            if path.startswith("/control/"):
                self.control(path, body)
            elif path in ("/token", "/introspect") and \
                    self.command == "POST":
                self.endpoint(path[1:], body)
            elif (self.command, path) in ROUTES:
                ROUTES[(self.command, path)](self, body)
            else:
                raise json_reply(404, {"error": "not found"})
        except HttpReply as r:
            self.send(r.status, r.body, r.headers, r.ctype)
        except (ConnectionError, socket.timeout, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug here must not kill the server
            log("internal error: %r" % (e,))
            self.send(500, b'{"error":"server_error"}')

    def control(self, path, body):
        fn = CONTROL.get((self.command, path))
        if fn is None:
            raise json_reply(404, {"error": "no such control"})
        try:
            req = json.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("object expected")
        except ValueError as e:
            raise json_reply(400, {"error": "bad JSON: %s" % e})
        raise json_reply(200, fn(req))

    def endpoint(self, name, body):
        with STATE.lock:
            STATE.bump("endpoints", name)
            fault = STATE.pop_fault(name)
        spoil = None
        late = None
        if fault and fault["kind"] == "late":
            # the grant is carried out at once, its reply held back
            log("fault late on %s" % name)
            late = fault
        elif fault and fault["kind"] in BAD_REPLY_KINDS:
            log("fault %s on %s" % (fault["kind"], name))
            spoil = fault["kind"]
        elif fault:
            log("fault %s on %s" % (fault["kind"], name))
            if fault["kind"] in ("echo", "echo_json"):
                raise echo_reply(fault, body)
            self.fault(fault)
            if fault["kind"] != "slow":
                return
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != \
                "application/x-www-form-urlencoded":
            raise oauth_error("google", "invalid_request")
        try:
            text = body.decode("utf-8")
            pairs = urllib.parse.parse_qsl(text, keep_blank_values=True,
                                           strict_parsing=bool(text))
        except (UnicodeDecodeError, ValueError):
            raise oauth_error("google", "invalid_request")
        form = {}
        for k, v in pairs:
            if k in form:   # RFC 6749 3.2: no repeated parameters
                raise oauth_error("google", "invalid_request")
            form[k] = v
        if name == "token":
            try:
                do_token(self, form)
            except HttpReply as r:
                if late is not None:
                    STOP.wait(late["delay"])
                raise spoil_reply(spoil, r) if spoil else r
        else:
            do_introspect(self, form)

    def fault(self, f):
        k = f["kind"]
        if k == "slow":
            STOP.wait(f["delay"])
        elif k == "status":
            self.send(f["status"], b"<html><body>Server Error</body></html>",
                      ctype="text/html")
        elif k == "429":
            self.send(429, b'{"error":"rate_limited"}',
                      {"Retry-After": str(f["retry_after"])})
        elif k == "drop":
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif k in ("invalid_grant", "invalid_client"):
            r = oauth_error("google", k)
            self.send(r.status, r.body)
        elif k == "garbage":
            self.send(200, b"\x00\xff{not json]]\x01" + os.urandom(64))
        elif k == "huge":
            pad = b"A" * max(f["size"] - 40, 0)
            self.send(200, b'{"access_token":"' + pad +
                      b'","token_type":"Bearer"}')
        elif k == "content_type":
            self.send(200, json.dumps({"access_token": "mbat-wrongtype",
                                       "token_type": "Bearer",
                                       "expires_in": 3600}).encode(),
                      ctype="text/html")
        elif k == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"access_token":"mbat-trunc')
            self.close_connection = True
        elif k == "empty":
            self.send(200, b"")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, ctx, introspect_auth):
        self.address_family = socket.AF_INET6 if ":" in addr[0] \
            else socket.AF_INET
        super().__init__(addr, Handler)
        self.ctx = ctx
        self.introspect_auth = introspect_auth

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(CONN_TIMEOUT)
        # The handshake happens in the handler thread, on first read.
        return self.ctx.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr


def main():
    global LOG
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", required=True, help="server certificate PEM")
    ap.add_argument("--key", required=True, help="server key PEM")
    ap.add_argument("--port-file", help="write the port here when ready")
    ap.add_argument("--log", help="append a request log here")
    ap.add_argument("--introspect-auth", metavar="ID:SECRET",
                    help="require HTTP Basic client auth on /introspect")
    ap.add_argument("--max-lifetime", type=float, default=3600,
                    help="exit after this many seconds (safety net)")
    a = ap.parse_args()

    if a.log:
        LOG = open(a.log, "a", encoding="utf-8")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    auth = None
    if a.introspect_auth:
        cid, _, sec = a.introspect_auth.partition(":")
        auth = (cid, sec)
    srv = Server((a.host, a.port), ctx, auth)
    port = srv.server_address[1]

    def on_signal(_sig, _frm):
        STOP.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    th = threading.Thread(target=srv.serve_forever,
                          kwargs={"poll_interval": 0.2}, daemon=True)
    th.start()
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    log("listening on %s port %d pid %d" % (a.host, port, os.getpid()))
    STOP.wait(a.max_lifetime)
    STOP.set()
    srv.shutdown()
    srv.server_close()
    th.join(5)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
