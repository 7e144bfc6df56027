"""Client credentials for mock_oauth2.py (RFC 6749 4.4, RFC 7523 2.2).

Microsoft 365 app-only: an application (client_id) authenticates with its
secret, or with a client assertion (a JWT signed RS256 by the key of a
registered certificate, identified by its x5t / x5t#S256 thumbprint), and
gets an access token for the mailbox user registered with it, with no
refresh token.  The Python standard library has no RSA: the signature is
verified with the `openssl` command, in a subprocess, against the
registered certificate.

install(m) hooks this into the mock module m: the grant in m.GRANTS and
POST /control/app in m.CONTROL.
"""

import atexit
import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 600    # exp - nbf, seconds (Microsoft: 10 min)
CLOCK_SKEW = 300

M = None                        # the mock module, set by install()
APPS = {}                       # client_id -> App
SEEN_JTI = set()
LOCK = threading.Lock()
WORKDIR = tempfile.mkdtemp(prefix="mock-cc-")
atexit.register(shutil.rmtree, WORKDIR, True)

# reason -> (AADSTS code, text), Microsoft's wording where known.
CC_ERRORS = {
    "cc_no_secret": (7000218, "The request body must contain the "
                     "following parameter: 'client_assertion' or "
                     "'client_secret'."),
    "cc_bad_secret": (7000215, "Invalid client secret provided. Ensure "
                      "the secret being sent in the request is the client "
                      "secret value, not the client secret ID."),
    "cc_both": (90015, "Requested query string is too long."),
    "cc_key_unknown": (700027, "The certificate with identifier used to "
                       "sign the client assertion is not registered on "
                       "application. [Reason - The key was not found., "
                       "Thumbprint of key used by client: '%s']"),
    "cc_signature": (700027, "Client assertion failed signature "
                     "validation."),
    "cc_time": (700024, "Client assertion is not within its valid time "
                "range."),
    "cc_audience": (700021, "Client assertion audience claim does not "
                    "match Realm issuer."),
    "cc_issuer": (700023, "Client assertion issuer and subject claims "
                  "must be the client id."),
    "cc_malformed": (50027, "JWT token is invalid or malformed."),
    "cc_replay": (700024, "Client assertion jti has already been used."),
    "cc_assertion_type": (50012, "Client assertion type is not "
                          "supported."),
    "cc_scope": (1002012, "The provided value for scope %s is not valid. "
                 "Client credential flows must have a scope value with "
                 "/.default suffixed to the resource identifier "
                 "(application ID URI)."),
}


class App:
    """A client registration with app-only permission to one mailbox."""

    def __init__(self, client_id, user, client_secret=None, cert=None,
                 access_ttl=3600, scope="https://outlook.office365.com/"
                 ".default", token_bytes=0, style="microsoft"):
        self.client_id = client_id
        self.user = user
        self.client_secret = client_secret
        self.access_ttl = int(access_ttl)
        self.scope = scope
        self.token_bytes = int(token_bytes)
        self.style = style
        self.cert_path = None
        self.pub_path = None
        self.x5t = self.x5t256 = None
        if cert:
            self.load_cert(cert)

    def load_cert(self, pem):
        tag = secrets.token_hex(6)
        self.cert_path = os.path.join(WORKDIR, "cert-%s.pem" % tag)
        self.pub_path = os.path.join(WORKDIR, "pub-%s.pem" % tag)
        with open(self.cert_path, "w") as f:
            f.write(pem)
        der = openssl("x509", "-in", self.cert_path, "-outform", "DER")
        pub = openssl("x509", "-in", self.cert_path, "-pubkey", "-noout")
        with open(self.pub_path, "wb") as f:
            f.write(pub)
        self.x5t = b64url(hashlib.sha1(der).digest())
        self.x5t256 = b64url(hashlib.sha256(der).digest())


def openssl(*args, data=None):
    r = subprocess.run(("openssl",) + args, input=data, timeout=20,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise ValueError("openssl %s: %s" % (args[0], r.stderr.decode()))
    return r.stdout


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def error(reason, arg=""):
    return M.oauth_error("microsoft", "invalid_scope"
                         if reason == "cc_scope" else "invalid_client",
                         reason, arg)


def verify_signature(app, signing_input, sig):
    with tempfile.TemporaryDirectory(dir=WORKDIR) as d:
        data, sigf = os.path.join(d, "in"), os.path.join(d, "sig")
        with open(data, "wb") as f:
            f.write(signing_input)
        with open(sigf, "wb") as f:
            f.write(sig)
        r = subprocess.run(("openssl", "dgst", "-sha256", "-verify",
                            app.pub_path, "-signature", sigf, data),
                           timeout=20, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    return r.returncode == 0


def check_assertion(handler, app, jwt):
    """Raises the error reply unless jwt is a valid assertion of app."""
    try:
        h64, p64, s64 = jwt.split(".")
        header = json.loads(unb64url(h64))
        claims = json.loads(unb64url(p64))
        sig = unb64url(s64)
    except (ValueError, TypeError):
        raise error("cc_malformed")
    if not isinstance(header, dict) or not isinstance(claims, dict) or \
            header.get("alg") != "RS256":
        raise error("cc_malformed")
    if app.cert_path is None or not (
            header.get("x5t#S256") == app.x5t256 or
            (header.get("x5t#S256") is None and
             header.get("x5t") == app.x5t)):
        raise error("cc_key_unknown", str(header.get("x5t", "(none)")))
    if not verify_signature(app, (h64 + "." + p64).encode(), sig):
        raise error("cc_signature")
    aud = "https://%s%s" % (handler.headers.get("Host", ""),
                            handler.path.split("?")[0])
    if claims.get("aud") != aud:
        raise error("cc_audience")
    if claims.get("iss") != app.client_id or \
            claims.get("sub") != app.client_id:
        raise error("cc_issuer")
    t = M.now()
    exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
    if not isinstance(exp, int) or not isinstance(nbf, int) or \
            exp <= t - CLOCK_SKEW or nbf > t + CLOCK_SKEW or \
            exp - nbf > MAX_ASSERTION_LIFETIME:
        raise error("cc_time")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise error("cc_malformed")
    with LOCK:
        if jti in SEEN_JTI:
            raise error("cc_replay")
        SEEN_JTI.add(jti)


def authenticate(handler, form, app, secret):
    atype = form.get("client_assertion_type")
    assertion = form.get("client_assertion")
    if (atype or assertion) and secret:
        raise error("cc_both")
    if atype or assertion:
        if atype != JWT_BEARER or not assertion:
            raise error("cc_assertion_type")
        check_assertion(handler, app, assertion)
        return "certificate"
    if not secret:
        raise error("cc_no_secret")
    if app.client_secret is None or \
            not secrets.compare_digest(secret, app.client_secret):
        raise error("cc_bad_secret")
    return "secret"


def grant_client_credentials(handler, form):
    cid, secret = M.client_auth(handler, form)
    if cid is None:
        raise M.oauth_error("microsoft", "invalid_request", arg="client_id")
    with LOCK:
        app = APPS.get(cid)
    if app is None:
        raise M.oauth_error("microsoft", "invalid_client", "no_client", cid)
    with M.STATE.lock:
        u = M.STATE.counters["users"].setdefault(app.user, {})
        u["cc"] = u.get("cc", 0) + 1
    how = authenticate(handler, form, app, secret)
    scope = form.get("scope")
    if not scope:
        raise M.oauth_error("microsoft", "invalid_request", arg="scope")
    if scope != app.scope:
        raise error("cc_scope", scope)
    with M.STATE.lock:
        u = M.STATE.counters["users"].setdefault(app.user, {})
        u["cc_ok"] = u.get("cc_ok", 0) + 1
        u["cc_" + how] = u.get("cc_" + how, 0) + 1
    return M.token_response(app, app.user, scope, None)


def ctl_app(body):
    cid, user = body.get("client_id"), body.get("user")
    if not cid or not user:
        raise M.json_reply(400, {"error": "client_id and user needed"})
    try:
        app = App(cid, user, body.get("client_secret"),
                  body.get("certificate"), body.get("access_ttl", 3600),
                  body.get("scope", "https://outlook.office365.com/"
                           ".default"), body.get("token_bytes", 0))
    except (ValueError, TypeError, subprocess.SubprocessError) as e:
        raise M.json_reply(400, {"error": str(e)})
    with LOCK:
        APPS[cid] = app
    M.log("app registered client_id=%s user=%s secret=%s cert=%s" %
          (cid, user, app.client_secret is not None, app.x5t))
    return {"client_id": cid, "user": user, "x5t": app.x5t,
            "x5t#S256": app.x5t256}


def install(m):
    global M
    M = m
    m.MS_ERRORS.update(CC_ERRORS)
    m.GRANTS["client_credentials"] = grant_client_credentials
    m.CONTROL[("POST", "/control/app")] = ctl_app
