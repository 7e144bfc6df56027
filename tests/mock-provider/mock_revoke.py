"""Token revocation for mock_oauth2.py (RFC 7009).

Two endpoints, as the two kinds of providers answer:

* POST /revoke, Google's (https://oauth2.googleapis.com/revoke): the form
  holds `token` only, no client authentication; revoking a refresh token
  ends the grant (its access tokens die with it); a token that is unknown,
  expired or already revoked answers 400 {"error": "invalid_token"}.
* POST /oauth2/revoke, a generic RFC 7009 server: `token`, optional
  `token_type_hint`, and client authentication (body or HTTP Basic) that
  must match the token's client; an unknown or dead token answers 200
  (RFC 7009 2.2).

Counters: endpoints.revoke, users.<user>.revoke, and for RFC 7009
users.<user>.revoke_hint_<hint>.  POST /control/revoke-fault {"status":
N, "count": C} makes the next C revocations answer HTTP N.

install(m) hooks this into the mock module m.
"""

import urllib.parse

M = None
FAULTS = []


def parse_form(body):
    try:
        text = body.decode("utf-8")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True,
                                       strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError):
        raise M.json_reply(400, {"error": "invalid_request"})
    form = {}
    for k, v in pairs:
        if k in form:
            raise M.json_reply(400, {"error": "invalid_request"})
        form[k] = v
    return form


def take_fault():
    with M.STATE.lock:
        if not FAULTS:
            return None
        f = FAULTS[0]
        f["count"] -= 1
        if f["count"] <= 0:
            FAULTS.pop(0)
        return dict(f)


def revoke(token):
    """Kills token (and, for a refresh token, the user's access tokens).
    Returns (user, kind) of a live token, or (user or None, None)."""
    with M.STATE.lock:
        rec = M.STATE.refresh.get(token)
        if rec is not None:
            if rec["state"] != "valid":
                return rec["user"], None
            rec["state"], rec["reason"] = "dead", "revoked"
            for a in M.STATE.access.values():
                if a["user"] == rec["user"]:
                    a["revoked"] = True
            return rec["user"], "refresh"
        rec = M.STATE.access.get(token)
        if rec is not None and not rec["revoked"]:
            rec["revoked"] = True
            return rec["user"], "access"
        return (rec["user"] if rec else None), None


def route(handler, body, google):
    with M.STATE.lock:
        M.STATE.bump("endpoints", "revoke")
    f = take_fault()
    if f is not None:
        M.log("fault %d on revoke" % f["status"])
        raise M.json_reply(f["status"], {"error": "server_error"})
    ctype = handler.headers.get("Content-Type", "")
    if ctype.split(";")[0].strip().lower() != \
            "application/x-www-form-urlencoded":
        raise M.json_reply(400, {"error": "invalid_request"})
    form = parse_form(body)
    token = form.get("token")
    if not token:
        raise M.json_reply(400, {"error": "invalid_request",
                                 "error_description": "Missing token"})
    if not google:
        with M.STATE.lock:
            rec = M.STATE.refresh.get(token) or M.STATE.access.get(token)
            acct = M.STATE.accounts.get(rec["user"]) if rec else None
        if acct is not None:
            cid, secret = M.client_auth(handler, form)
            M.check_client(acct, cid, secret)
    user, kind = revoke(token)
    M.log("revoke user=%s token=%s kind=%s" % (user, M.short(token), kind))
    if user is not None:
        with M.STATE.lock:
            M.STATE.bump("grants", "revoke", user, "revoke")
            hint = form.get("token_type_hint")
            if hint and not google:
                M.STATE.bump("grants", "revoke_hint", user,
                             "revoke_hint_" + hint)
    if google and kind is None:
        raise M.json_reply(400, {"error": "invalid_token",
                                 "error_description":
                                 "Token expired or revoked"})
    raise M.HttpReply(200, b"{}", None, "application/json")


def ctl_fault(body):
    f = {"status": int(body.get("status", 503)),
         "count": int(body.get("count", 1))}
    with M.STATE.lock:
        FAULTS.append(f)
    return {"queued": f}


def install(m):
    global M
    M = m
    m.ROUTES[("POST", "/revoke")] = lambda h, b: route(h, b, True)
    m.ROUTES[("POST", "/oauth2/revoke")] = lambda h, b: route(h, b, False)
    m.CONTROL[("POST", "/control/revoke-fault")] = ctl_fault
