#!/bin/sh
# tests/ca.sh DIR: make a throw-away certificate authority and a server
# certificate for 127.0.0.1, ::1 and localhost in DIR (created 0700):
#   DIR/ca.pem  DIR/ca.key  DIR/server.pem  DIR/server.key  DIR/server-chain.pem
# Keys are mode 0600.  Both certificates are valid for 2 days.
# Exit status: 0 on success, 1 on failure (openssl's messages on stderr).
set -eu
dir=${1:?usage: ca.sh DIR}
command -v openssl >/dev/null 2>&1 || { echo "ca.sh: no openssl" >&2; exit 1; }
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
cd "$dir"

cat > openssl.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = mailbearer test
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

openssl req -x509 -new -newkey rsa:2048 -nodes -days 2 \
	-subj "/CN=mailbearer test CA" -config openssl.cnf -extensions ca_ext \
	-keyout ca.key -out ca.pem 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" \
	-config openssl.cnf -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	-CAcreateserial -days 2 -extfile openssl.cnf -extensions server_ext \
	-out server.pem 2>/dev/null
cat server.pem ca.pem > server-chain.pem
chmod 0600 ca.key server.key
chmod 0644 ca.pem server.pem server-chain.pem
rm -f server.csr ca.srl
openssl verify -CAfile ca.pem server.pem >/dev/null
