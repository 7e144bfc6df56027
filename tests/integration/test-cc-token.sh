#!/bin/sh
# SPDX-License-Identifier: MIT
# flow = client_credentials (Microsoft 365 app-only) with `mailbearer
# token` against the mock provider: a token with a client secret and with
# a certificate (RFC 7523 client assertion, verified by the mock with
# openssl), no refresh token stored, the freshness rule, transient
# failures retried then reported as temporary, a wrong secret
# and a foreign or expired certificate with plain advice, the
# configuration's checks (file:line), `import` and `authorize` refused,
# no secret leaked.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/servers.sh"
. "$top_srcdir/tests/lib/token.sh"
token_setup

# A key and a certificate for the app (RSA, as Microsoft requires).
mkcert() { # mkcert NAME DAYS-OR-DATES...
	n=$1
	shift
	openssl req -x509 -newkey rsa:2048 -nodes -subj "/CN=mailbearer-$n" \
		-keyout "$MB_TMP/$n.key" -out "$MB_TMP/$n.pem" "$@" \
		2> "$MB_TMP/openssl.err" || mb_diag_file "$MB_TMP/openssl.err"
	chmod 600 "$MB_TMP/$n.key"
}
mkcert app -days 365
mkcert other -days 365
mkcert soon -days 10
# Expired: valid for one day, a year ago (openssl x509 -not_before needs
# OpenSSL 3.4; a CA-signed one with -days would not be expired).
openssl req -new -newkey rsa:2048 -nodes -subj /CN=old \
	-keyout "$MB_TMP/old.key" -out "$MB_TMP/old.csr" 2> /dev/null
chmod 600 "$MB_TMP/old.key"
"$MB_PYTHON" - "$MB_TMP" <<'EOF' || diag "cannot make the expired certificate"
import subprocess, sys, os
d = sys.argv[1]
os.makedirs(d + "/oldca", exist_ok=True)
open(d + "/oldca/index.txt", "w").close()
open(d + "/oldca/serial", "w").write("01\n")
open(d + "/oldca/ca.cnf", "w").write("""[ca]
default_ca = c
[c]
dir = %s/oldca
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = sha256
policy = p
[p]
commonName = supplied
""" % d)
subprocess.run(["openssl", "ca", "-batch", "-config", d + "/oldca/ca.cnf",
                "-selfsign", "-keyfile", d + "/old.key", "-in", d + "/old.csr",
                "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
                "-out", d + "/old.pem", "-notext"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
EOF
remember_secret "$(sed -n 2p "$MB_TMP/app.key")"

SECRET='s3cr3t-Value~with+special&chars=1'
remember_secret "$SECRET"
printf '%s\n' "$SECRET" > "$MB_TMP/secret"
chmod 600 "$MB_TMP/secret"
printf '%s\n' 'wrong-secret-value-123' > "$MB_TMP/badsecret"
chmod 600 "$MB_TMP/badsecret"

cc_account() { # cc_account ACCOUNT EXTRA-LINES
	mb_conf_account "$MB_CONF" "$1" microsoft "flow = client_credentials
tenant = contoso.onmicrosoft.com
$2"
}
cc_account relay@example.com "client_id = app-secret
client_secret_file = $MB_TMP/secret"
cc_account cert@example.com "client_id = app-cert
client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/app.key"
cc_account certx@example.com "client_id = app-cert
client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/app.key"
cc_account bad@example.com "client_id = app-secret
client_secret_file = $MB_TMP/badsecret"
cc_account foreign@example.com "client_id = app-cert
client_certificate_file = $MB_TMP/other.pem
client_key_file = $MB_TMP/other.key"
cc_account expired@example.com "client_id = app-cert
client_certificate_file = $MB_TMP/old.pem
client_key_file = $MB_TMP/old.key"
cc_account soon@example.com "client_id = app-soon
client_certificate_file = $MB_TMP/soon.pem
client_key_file = $MB_TMP/soon.key"
cc_account mixed@example.com "client_id = app-cert
client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/other.key"
# The line "client_id = cid" of mb_conf_account comes first: drop it.
sed -i '/^client_id = cid$/d' "$MB_CONF"

mockctl app app-secret --user mailbox@example.com \
	--client-secret "$SECRET" > /dev/null
ok $? "mock: app with a secret registered"
mockctl app app-cert --user mailbox@example.com --cert "$MB_TMP/app.pem" \
	> /dev/null
ok $? "mock: app with a certificate registered"
mockctl app app-soon --user mailbox@example.com --cert "$MB_TMP/soon.pem" \
	> /dev/null
cc() { mockctl count "users.mailbox@example.com.$1"; }

# --- a client secret ---
mb token relay@example.com
ok $? "secret: token exit 0"
at1=$(cat "$MB_TMP/out")
remember_secret "$at1"
check "secret: an access token" test -n "$at1"
check "secret: one client_credentials request" test "$(cc cc_secret)" = 1
check "secret: the grant is client_credentials" \
	test "$(mockctl count grants.client_credentials)" = 1
check "no refresh_token grant asked" \
	test "$(mockctl count grants.refresh_token)" = 0
check "state holds the access token" \
	test "$(st_get relay@example.com access_token)" = "$at1"
check "state holds no refresh token" \
	test -z "$(st_get relay@example.com refresh_token)"
check "state holds the expiry" \
	test "$(st_get relay@example.com expires_at)" -gt "$(date +%s)"
check "state holds the .default scope" \
	test "$(st_get relay@example.com scope)" = \
	"https://outlook.office365.com/.default"
check "state file is 0600" \
	test "$(stat -c %a "$MB_TMP/state/relay@example.com.json")" = 600
mb token relay@example.com
check "fresh token served from the state" test "$(cat "$MB_TMP/out")" = "$at1"
lacks "... with no warning (an app needs no refresh token)" "$MB_TMP/err" \
	'authorize|no refresh token'

check "no second request while fresh" test "$(cc cc)" = 1
time_left relay@example.com 100
mb token relay@example.com
ok $? "inside the margin: a new token"
at2=$(cat "$MB_TMP/out")
remember_secret "$at2"
check "a new token" test -n "$at2" -a "$at2" != "$at1"
check "two requests" test "$(cc cc_ok)" = 2
mb token --refresh relay@example.com
ok $? "--refresh asks for a new one"
remember_secret "$(cat "$MB_TMP/out")"
check "three requests" test "$(cc cc_ok)" = 3

# --- transient failures: retried, then reported as temporary ---
time_left relay@example.com -10
mockctl fault token 503 --count 1 > /dev/null
mb token relay@example.com
ok $? "one 503: retried, a token"
remember_secret "$(cat "$MB_TMP/out")"
time_left relay@example.com -10
mockctl fault token 503 --count 10 > /dev/null
mb token relay@example.com
check "provider down: exit 75 (temporary)" test "$mb_rc" = 75
contains "provider down: says it is temporary" "$MB_TMP/err" \
	"token request failed temporarily: .*HTTP 503"
mockctl reset faults > /dev/null
mb token relay@example.com
ok $? "provider back: a token"
remember_secret "$(cat "$MB_TMP/out")"

# --- a certificate: RFC 7523 client assertion ---
mb token cert@example.com
ok $? "certificate: token exit 0"
at3=$(cat "$MB_TMP/out")
remember_secret "$at3"
check "certificate: an access token" test -n "$at3"
check "certificate: the mock verified the signed assertion" \
	test "$(cc cc_certificate)" = 1
check "certificate: no refresh token stored" \
	test -z "$(st_get cert@example.com refresh_token)"
time_left cert@example.com -10
mb token cert@example.com
ok $? "certificate: a second assertion (new jti) accepted"
remember_secret "$(cat "$MB_TMP/out")"
check "certificate: two verified assertions" test "$(cc cc_certificate)" = 2
lacks "certificate valid for a year: no expiry warning" "$MB_TMP/err" \
	"expires on"

# --- a certificate about to expire: works, and says so ---
mb token soon@example.com
ok $? "certificate expiring in 10 days: token exit 0"
remember_secret "$(cat "$MB_TMP/out")"
contains "... with a warning: the date, the days left, what to do" \
	"$MB_TMP/err" \
	"soon.pem expires on 20[0-9-]+T[0-9:]+Z \(in [89] days\): make a new key"

# --- a wrong secret: invalid_client with plain advice ---
mb token bad@example.com
check "wrong secret: exit 77 (permanent)" test "$mb_rc" = 77
contains "wrong secret: AADSTS7000215 named" "$MB_TMP/err" "AADSTS7000215"
contains "wrong secret: says the client credentials were refused" \
	"$MB_TMP/err" "refused the client credentials"
contains "wrong secret: advice names the secret's Value" "$MB_TMP/err" \
	"Value \(not its ID\)"
lacks "wrong secret: no talk of refresh tokens" "$MB_TMP/err" \
	"refresh token|mailbearer authorize"
diag_stdin < "$MB_TMP/err"

# --- a certificate the app does not know: AADSTS700027 ---
mb token foreign@example.com
check "foreign certificate: exit 77 (permanent)" test "$mb_rc" = 77
contains "foreign certificate: AADSTS700027 named" "$MB_TMP/err" \
	"AADSTS700027"
contains "foreign certificate: says to upload the certificate" \
	"$MB_TMP/err" "not registered on the app registration: upload"
check "foreign certificate: no token stored" \
	test -z "$(st_get foreign@example.com access_token)"
diag_stdin < "$MB_TMP/err"

# --- the client refused, for a certificate: never secret advice ---
mockctl fault token echo --status 401 --error invalid_client > /dev/null
mb token certx@example.com
check "certificate, invalid_client: exit 77 (permanent)" test "$mb_rc" = 77
contains "... the advice names the certificate" "$MB_TMP/err" \
	"this account signs a client assertion with client_certificate_file"
lacks "... no client-secret advice" "$MB_TMP/err" \
	"client secret|client_secret_file"
mockctl reset faults > /dev/null
diag_stdin < "$MB_TMP/err"

# --- an expired certificate: refused before any request ---
n=$(mockctl count endpoints.token)
mb token expired@example.com
check "expired certificate: exit 78" test "$mb_rc" = 78
contains "expired certificate: says so, with the date" "$MB_TMP/err" \
	"client_certificate_file .*old.pem expired on 2020-01-02T00:00:00Z"
contains "expired certificate: says what to do" "$MB_TMP/err" \
	"upload the certificate to the app registration"
diag_stdin < "$MB_TMP/err"
check "expired certificate: no request made" \
	test "$(mockctl count endpoints.token)" = "$n"

# --- a key that is not the certificate's ---
mb token mixed@example.com
check "mismatched key: exit 78" test "$mb_rc" = 78
contains "mismatched key: says so" "$MB_TMP/err" \
	"other.key is not the key of client_certificate_file"
check "mismatched key: no request made" \
	test "$(mockctl count endpoints.token)" = "$n"

# --- the mock really checks what it is sent (else the certificate tests
# above would prove nothing): assertions made here with openssl ---
# jwt KEY CERT CLAIMS-CHANGES: an assertion for app-cert, signed by KEY,
# naming CERT's thumbprint, with claims changed by the Python dict given.
jwt() {
	"$MB_PYTHON" - "$@" "$MB_PROVIDER_URL/token" <<'PY'
import base64, hashlib, json, subprocess, sys, time
key, cert, change, aud = sys.argv[1:5]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                     capture_output=True, check=True).stdout
t = int(time.time())
h = {"alg": "RS256", "typ": "JWT",
     "x5t#S256": b64(hashlib.sha256(der).digest())}
c = {"aud": aud, "iss": "app-cert", "sub": "app-cert",
     "jti": b64((str(t) + change).encode()),
     "nbf": t, "iat": t, "exp": t + 300}
c.update(eval(change, {"t": t}))
inp = b64(json.dumps(h).encode()) + "." + b64(json.dumps(c).encode())
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                     input=inp.encode(), capture_output=True,
                     check=True).stdout
print(inp + "." + b64(sig))
PY
}
JWT_BEARER=urn:ietf:params:oauth:client-assertion-type:jwt-bearer
MS_CC_SCOPE=https://outlook.office365.com/.default
# post_jwt NAME JWT PATTERN: the token endpoint's answer matches PATTERN.
post_jwt() {
	mockctl raw POST /token grant_type=client_credentials \
		client_id=app-cert "scope=$MS_CC_SCOPE" \
		"client_assertion_type=$JWT_BEARER" \
		"client_assertion=$2" > "$MB_TMP/raw" 2>&1
	contains "mock: $1" "$MB_TMP/raw" "$3"
}
post_jwt "a good assertion is accepted" \
	"$(jwt "$MB_TMP/app.key" "$MB_TMP/app.pem" '{}')" '"access_token"'
post_jwt "a signature by another key is refused" \
	"$(jwt "$MB_TMP/other.key" "$MB_TMP/app.pem" '{}')" \
	'AADSTS700027: Client assertion failed signature validation'
post_jwt "another audience is refused" "$(jwt "$MB_TMP/app.key" \
	"$MB_TMP/app.pem" '{"aud": "https://x/token"}')" 'AADSTS700021'
post_jwt "another issuer is refused" \
	"$(jwt "$MB_TMP/app.key" "$MB_TMP/app.pem" '{"iss": "x"}')" \
	'AADSTS700023'
post_jwt "an expired assertion is refused" "$(jwt "$MB_TMP/app.key" \
	"$MB_TMP/app.pem" '{"exp": t - 400, "nbf": t - 700}')" 'AADSTS700024'
post_jwt "a long-lived assertion is refused" \
	"$(jwt "$MB_TMP/app.key" "$MB_TMP/app.pem" '{"exp": t + 86400}')" \
	'AADSTS700024'
good=$(jwt "$MB_TMP/app.key" "$MB_TMP/app.pem" '{"jti": "once"}')
post_jwt "an assertion used once is accepted" "$good" '"access_token"'
post_jwt "... and refused the second time (jti)" "$good" \
	'jti has already been used'

# --- the key file's mode is checked at each use ---
chmod 640 "$MB_TMP/app.key"
mb token --refresh cert@example.com
check "key readable by group: refused" test "$mb_rc" != 0
contains "key readable by group: chmod 600 advice" "$MB_TMP/err" \
	"app.key is accessible by group or others .*chmod 600"
chmod 600 "$MB_TMP/app.key"

# --- import: nothing to import ---
printf 'x%.0s' 1 2 3 | mb import relay@example.com
check "import: refused" test "$mb_rc" != 0
contains "import: says no user step is needed" "$MB_TMP/err" \
	"client_credentials.*no (refresh token|user step)"

# --- authorize: no user step ---
n=$(mockctl count endpoints.token)
mb authorize relay@example.com < /dev/null
check "authorize: exit 64" test "$mb_rc" = 64
contains "authorize: says no user step is needed" "$MB_TMP/err" \
	"flow = client_credentials: no user step is needed"
check "authorize: no request, no listener" \
	test "$(mockctl count endpoints.token)" = "$n"

# --- configuration checks, with file and line ---
conf_err() { # conf_err NAME EXTRA-LINES PATTERN
	c=$MB_TMP/bad.conf
	: > "$c"
	MB_CONF_SAVE=$MB_CONF
	MB_CONF=$c
	mb_conf_account "$c" x@example.com "${4:-microsoft}" "$2"
	mb token x@example.com
	MB_CONF=$MB_CONF_SAVE
	check "config: $1: exit 78" test "$mb_rc" = 78
	contains "config: $1: message" "$MB_TMP/err" "$3"
}
conf_err "unknown flow" "flow = password" \
	"bad.conf:[0-9]+: unknown flow \"password\""
conf_err "no credentials" "flow = client_credentials
tenant = contoso.com" \
	"bad.conf:[0-9]+: flow = client_credentials needs client_secret_file"
conf_err "tenant common" "flow = client_credentials
client_secret_file = $MB_TMP/secret" \
	"flow = client_credentials needs the tenant's id or domain"
conf_err "google" "flow = client_credentials
client_secret_file = $MB_TMP/secret" \
	"Google has no client credentials grant" google
conf_err "certificate without key" "flow = client_credentials
tenant = contoso.com
client_certificate_file = $MB_TMP/app.pem" \
	"client_certificate_file and client_key_file go together"
conf_err "secret and certificate" "flow = client_credentials
tenant = contoso.com
client_secret_file = $MB_TMP/secret
client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/app.key" \
	"a client secret and a client certificate are both set"
conf_err "certificate with refresh_token" \
	"client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/app.key" \
	"client_certificate_file is only used with flow = client_credentials"
chmod 644 "$MB_TMP/app.key"
conf_err "key file mode" "flow = client_credentials
tenant = contoso.com
client_certificate_file = $MB_TMP/app.pem
client_key_file = $MB_TMP/app.key" \
	"bad.conf:[0-9]+: client_key_file .*app.key is accessible by group"
chmod 600 "$MB_TMP/app.key"

# --- no secret ever on stderr ---
no_secrets "no secret, key or token in stderr or the provider's log" \
	"$MB_TMP/all-stderr" "$MB_PROVIDER_LOG"
done_testing
