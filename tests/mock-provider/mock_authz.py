"""User authorization for mock_oauth2.py: the authorization code grant with
PKCE (RFC 6749 4.1, RFC 7636) and the device authorization grant (RFC 8628).

  GET  /authorize    validates response_type, client_id, redirect_uri
                     (http://127.0.0.1:PORT/..., http://localhost:PORT/...
                     or .../oauth2/nativeclient), scope, state and the S256
                     code_challenge, then answers 302 to the redirect URI
                     with code and state (or error=access_denied, a wrong
                     or missing state: POST /control/authorize).  No
                     sign-in page: the test plays the browser.
  POST /token        grant_type=authorization_code: code, redirect_uri,
                     code_verifier checked against the challenge; a code
                     is used once and lives 600 s.  Refresh token only for
                     Google-style access_type=offline or Microsoft-style
                     offline_access in scope.
  POST /devicecode   (also /device/code) client_id, scope -> device_code,
                     user_code, verification_uri (Google style:
                     verification_url, and invalid_scope for Gmail's
                     scope, as Google does).
  POST /token        grant_type=urn:ietf:params:oauth:grant-type:
                     device_code: authorization_pending until the test
                     approves (POST /control/device/approve), slow_down
                     when polled faster than the interval (which then
                     grows by 5 s), access_denied / expired_token; a
                     script of answers can be queued.

install(m) hooks this into the mock module m (m.GRANTS, m.CONTROL,
m.ROUTES).
"""

import base64
import hashlib
import json
import secrets
import time
import urllib.parse

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CODE_TTL = 600

M = None
CODES = {}          # code -> dict
DEVICES = {}        # device_code -> dict
MODES = []          # queued /authorize behaviours
DEVICE_CFG = {"interval": 5, "expires_in": 900, "script": []}

# Error texts in the two styles (added to the mock's tables).
GOOGLE_MORE = {
    "access_denied": "The user denied the request.",
    "authorization_pending": "Precondition Required",
    "slow_down": "Forbidden",
    "expired_token": "Expired device code",
    "invalid_scope_device": "Invalid device flow scope: "
                            "https://mail.google.com/",
    "bad_verifier": "Invalid code verifier.",
    "bad_code": "Malformed auth code.",
    "bad_redirect": "Bad Request",
}
MS_MORE = {
    "authorization_pending": (70016, "OAuth 2.0 device flow error. "
                              "Authorization is pending. Continue "
                              "polling."),
    "slow_down": (70016, "OAuth 2.0 device flow error. Slow down."),
    "expired_token": (70019, "Verification code expired."),
    "authorization_declined": (70020, "The user declined the "
                               "authorization."),
    "bad_verifier": (501481, "The Code_Verifier does not match the "
                     "code_challenge supplied in the authorization "
                     "request."),
    "bad_code": (54005, "OAuth2 Authorization code was already "
                 "redeemed, please retry with a new valid code or use "
                 "an existing refresh token."),
    "bad_redirect": (50148, "The redirect_uri does not match the "
                     "redirect_uri used in the authorization request."),
}


def s256(verifier):
    d = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(d).decode().rstrip("=")


def redirect_ok(uri):
    """Loopback (any port) or Microsoft's native-client page."""
    u = urllib.parse.urlsplit(uri)
    if u.scheme == "http" and u.hostname in ("127.0.0.1", "localhost"):
        return u.port is not None
    return u.scheme == "https" and u.path.endswith("/oauth2/nativeclient")


def find_account(cid, user=None):
    with M.STATE.lock:
        for a in M.STATE.accounts.values():
            if a.client_id == cid and (user is None or a.user == user):
                return a
    return None


def error_page(status, text):
    return M.HttpReply(status, (text + "\n").encode(), ctype="text/plain")


def redirect(uri, params):
    sep = "&" if "?" in uri else "?"
    return M.HttpReply(302, b"", {"Location": uri + sep +
                                  urllib.parse.urlencode(params)})


def wants_refresh(acct, scope, access_type):
    if acct.style == "microsoft":
        return "offline_access" in scope.split()
    return access_type == "offline"


def grantable(acct, scope):
    """The requested scope within the account's (offline_access aside)."""
    want = set(scope.split()) - {"offline_access"}
    return bool(want) and want <= set(acct.scope.split()) - \
        {"offline_access"}


def route_authorize(handler, _body):
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(handler.path)
                                    .query, keep_blank_values=True))
    with M.STATE.lock:
        M.STATE.bump("endpoints", "authorize")
    acct = find_account(q.get("client_id"), q.get("login_hint")) or \
        find_account(q.get("client_id"))
    uri = q.get("redirect_uri", "")
    # Errors about the client or redirect are shown, never redirected.
    if acct is None:
        raise error_page(401, "invalid_client: unknown client_id")
    if not redirect_ok(uri):
        raise error_page(400, "redirect_uri_mismatch: %s" % uri)
    state = q.get("state")
    if q.get("response_type") != "code":
        raise redirect(uri, {"error": "unsupported_response_type",
                             "state": state or ""})
    if q.get("code_challenge_method") != "S256" or \
            len(q.get("code_challenge", "")) != 43 or not state:
        raise redirect(uri, {"error": "invalid_request", "state":
                             state or "", "error_description":
                             "PKCE S256 and state are required"})
    scope = q.get("scope", "")
    if not grantable(acct, scope):
        raise redirect(uri, {"error": "invalid_scope", "state": state})
    mode = MODES.pop(0) if MODES else "ok"
    if mode.startswith("as:"):
        # The person at the browser signs in as another user.
        acct = find_account(acct.client_id, mode[3:]) or acct
    with M.STATE.lock:
        u = M.STATE.counters["users"].setdefault(acct.user, {})
        u["authorize"] = u.get("authorize", 0) + 1
    if mode == "deny":
        raise redirect(uri, {"error": "access_denied", "state": state,
                             "error_description": "The user denied "
                             "the request."})
    code = "mbac-" + secrets.token_urlsafe(24)
    with M.STATE.lock:
        CODES[code] = {"user": acct.user, "client_id": acct.client_id,
                       "redirect_uri": uri, "scope": scope,
                       "challenge": q["code_challenge"],
                       "offline": wants_refresh(acct, scope,
                                                q.get("access_type")),
                       "exp": time.time() + CODE_TTL, "used": False}
    M.log("authorize user=%s mode=%s code=%s" % (acct.user, mode,
                                                 M.short(code)))
    params = {"code": code, "state": state}
    if mode == "wrong_state":
        params["state"] = "X" + state[1:]
    elif mode == "no_state":
        del params["state"]
    raise redirect(uri, params)


def grant_code(handler, form):
    code = form.get("code")
    cid, secret = M.client_auth(handler, form)
    with M.STATE.lock:
        rec = CODES.get(code) if code else None
        acct = M.STATE.accounts.get(rec["user"]) if rec else None
    style = acct.style if acct else "google"
    if acct is None:
        raise M.oauth_error(style, "invalid_grant", "bad_code")
    M.check_client(acct, cid, secret)
    with M.STATE.lock:
        u = M.STATE.counters["users"].setdefault(acct.user, {})
        u["code"] = u.get("code", 0) + 1
        bad = rec["used"] or rec["exp"] <= time.time()
        rec["used"] = True      # one attempt per code (RFC 6749 4.1.2)
    if bad:
        raise M.oauth_error(style, "invalid_grant", "bad_code")
    if form.get("redirect_uri") != rec["redirect_uri"]:
        raise M.oauth_error(style, "invalid_grant", "bad_redirect")
    if s256(form.get("code_verifier", "")) != rec["challenge"]:
        raise M.oauth_error(style, "invalid_grant", "bad_verifier")
    with M.STATE.lock:
        rt = M.STATE.new_refresh(acct.user, acct.refresh_ttl) \
            if rec["offline"] else None
        u["code_ok"] = u.get("code_ok", 0) + 1
    scope = " ".join(s for s in rec["scope"].split()
                     if s != "offline_access") or acct.scope
    return with_id_token(M.token_response(acct, acct.user, scope, rt),
                         acct, rec["scope"])


def with_id_token(r, acct, scope):
    """OpenID Connect: an id_token (unsigned here) naming the user when
    openid was asked for."""
    if "openid" not in scope.split() or r.status != 200:
        return r
    def b64(obj):
        raw = json.dumps(obj).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    body = json.loads(r.body)
    body["id_token"] = "%s.%s.sig" % (b64({"alg": "none"}), b64({
        "sub": acct.user, "email": acct.user,
        "preferred_username": acct.user, "aud": acct.client_id,
        "iat": int(time.time()), "exp": int(time.time()) + 3600}))
    r.body = json.dumps(body).encode()
    return r


def parse_form(body):
    try:
        text = body.decode("utf-8")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True,
                                       strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise M.oauth_error("google", "invalid_request")
    form = {}
    for k, v in pairs:
        if k in form:
            raise M.oauth_error("google", "invalid_request")
        form[k] = v
    return form


def route_devicecode(handler, body):
    with M.STATE.lock:
        M.STATE.bump("endpoints", "devicecode")
    form = parse_form(body)
    scope = form.get("scope", "")
    # The client's registration: the mock keeps it per account; take one
    # of the client's accounts that can grant this scope.
    with M.STATE.lock:
        accts = [a for a in M.STATE.accounts.values()
                 if a.client_id == form.get("client_id")]
    acct = next((a for a in accts if grantable(a, scope)),
                accts[0] if accts else None)
    if acct is None:
        raise M.oauth_error("google", "invalid_client")
    if acct.style == "google" and M.GOOGLE_SCOPE in scope.split():
        raise M.oauth_error("google", "invalid_scope",
                            "invalid_scope_device")
    if not grantable(acct, scope):
        raise M.oauth_error(acct.style, "invalid_scope")
    dc = "mbdc-" + secrets.token_urlsafe(24)
    uc = secrets.token_hex(4).upper()
    base = "https://%s:%d" % handler.server.server_address[:2]
    # Who signs in is known only at approval (POST /control/device/
    # approve names the user); until then the code belongs to the client.
    with M.STATE.lock:
        DEVICES[dc] = {"user": None, "client_id": acct.client_id,
                       "user_code": uc, "scope": scope,
                       "exp": time.time() + DEVICE_CFG["expires_in"],
                       "interval": DEVICE_CFG["interval"],
                       "script": list(DEVICE_CFG["script"]),
                       "state": "pending", "polls": [],
                       "offline": wants_refresh(acct, scope, "offline")}
    body = {"device_code": dc, "user_code": uc,
            "expires_in": DEVICE_CFG["expires_in"],
            "interval": DEVICE_CFG["interval"]}
    if acct.style == "google":
        body["verification_url"] = base + "/device"
    else:
        body["verification_uri"] = base + "/devicelogin"
        body["message"] = "To sign in, use a web browser to open the " \
            "page %s/devicelogin and enter the code %s to " \
            "authenticate." % (base, uc)
    raise M.json_reply(200, body)


def device_answer(rec):
    """The device grant's verdict for one poll (under the lock): an error
    code, or None when the tokens are due."""
    t = time.time()
    last = rec["polls"][-1] if rec["polls"] else None
    rec["polls"].append(t)
    if t >= rec["exp"]:
        return "expired_token"
    if rec["script"]:
        step = rec["script"].pop(0)
        if step == "slow_down":
            rec["interval"] += 5
        return {"pending": "authorization_pending", "slow_down":
                "slow_down", "deny": "access_denied",
                "expire": "expired_token"}.get(step, step)
    if last is not None and t - last < rec["interval"] - 0.2:
        rec["too_fast"] = rec.get("too_fast", 0) + 1
        rec["interval"] += 5
        return "slow_down"
    if rec["state"] == "denied":
        return "access_denied"
    if rec["state"] == "approved":
        rec["state"] = "used"
        return None
    if rec["state"] == "used":
        return "invalid_grant"
    return "authorization_pending"


def grant_device(handler, form):
    dc = form.get("device_code")
    cid, secret = M.client_auth(handler, form)
    with M.STATE.lock:
        rec = DEVICES.get(dc) if dc else None
    acct = find_account(rec["client_id"], rec["user"]) if rec else None
    if acct is None:
        raise M.oauth_error("google", "invalid_grant", "bad_code")
    M.check_client(acct, cid, secret)
    with M.STATE.lock:
        err = device_answer(rec)
    if err == "access_denied" and acct.style == "microsoft":
        err = "authorization_declined"
    if err is not None:
        raise M.oauth_error(acct.style, err)
    with M.STATE.lock:
        rt = M.STATE.new_refresh(acct.user, acct.refresh_ttl) \
            if rec["offline"] else None
    scope = " ".join(s for s in rec["scope"].split()
                     if s != "offline_access") or acct.scope
    return M.token_response(acct, acct.user, scope, rt)


def ctl_authorize(body):
    """Queue behaviours of the next /authorize requests: ok, deny,
    wrong_state, no_state, as:USER (the user signs in as USER)."""
    modes = body.get("modes", [])
    for m in modes:
        if m not in ("ok", "deny", "wrong_state", "no_state") and \
                not m.startswith("as:"):
            raise M.json_reply(400, {"error": "mode: ok, deny, "
                                     "wrong_state, no_state or as:USER"})
    MODES.extend(modes)
    return {"queued": len(MODES)}


def ctl_device(body):
    """Settings of the next device codes: interval, expires_in and a
    script of answers (pending, slow_down, deny, expire)."""
    for k in ("interval", "expires_in"):
        if k in body:
            DEVICE_CFG[k] = int(body[k])
    if "script" in body:
        DEVICE_CFG["script"] = list(body["script"])
    return dict(DEVICE_CFG)


def ctl_device_set(body, state):
    """The user (an account of the code's client) signs in and approves,
    or declines, the newest pending code (or the one with user_code)."""
    n = 0
    with M.STATE.lock:
        for rec in reversed(list(DEVICES.values())):
            if rec["state"] != "pending":
                continue
            if body.get("user_code") not in (None, rec["user_code"]):
                continue
            user = body.get("user")
            if user is not None and (user not in M.STATE.accounts or
                                     M.STATE.accounts[user].client_id !=
                                     rec["client_id"]):
                continue
            rec["state"] = state
            rec["user"] = user
            n = 1
            break
    return {"changed": n}


def ctl_devices(_body):
    with M.STATE.lock:
        return {"devices": [
            {"user": r["user"], "user_code": r["user_code"],
             "state": r["state"], "interval": r["interval"],
             "polls": len(r["polls"]),
             "too_fast": r.get("too_fast", 0),
             "gaps": [round(b - a, 2) for a, b in
                      zip(r["polls"], r["polls"][1:])]}
            for r in DEVICES.values()]}


def install(m):
    global M
    M = m
    m.GOOGLE_ERRORS.update({k: v for k, v in GOOGLE_MORE.items()
                            if k in ("access_denied",
                                     "authorization_pending",
                                     "slow_down", "expired_token")})
    m.GOOGLE_REASONS.update(GOOGLE_MORE)
    m.MS_ERRORS.update(MS_MORE)
    m.STATUS_OF.setdefault("authorization_pending", 400)
    m.GRANTS["authorization_code"] = grant_code
    m.GRANTS[DEVICE_GRANT] = grant_device
    m.ROUTES[("GET", "/authorize")] = route_authorize
    m.ROUTES[("POST", "/devicecode")] = route_devicecode
    m.ROUTES[("POST", "/device/code")] = route_devicecode
    m.CONTROL[("POST", "/control/authorize")] = ctl_authorize
    m.CONTROL[("POST", "/control/device")] = ctl_device
    m.CONTROL[("POST", "/control/device/approve")] = \
        lambda b: ctl_device_set(b, "approved")
    m.CONTROL[("POST", "/control/device/deny")] = \
        lambda b: ctl_device_set(b, "denied")
    m.CONTROL[("GET", "/control/devices")] = ctl_devices
