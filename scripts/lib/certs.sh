#!/usr/bin/env bash
# Development certificates for TLS/mTLS between Genesis processes (never commit them:
# they live under .genesis/, which git ignores).
#
# Sourced:  . scripts/lib/certs.sh; genesis_certs DIR NAME...
# Alone:    bash scripts/lib/certs.sh DIR NAME...
#
#   genesis_certs DIR NAME...          DIR/ca.{crt,key} (dev CA, EC P-256, 10 years) and, per
#                                      NAME, DIR/NAME.{crt,key}: a leaf for serverAuth and
#                                      clientAuth, SAN DNS:localhost, IP:127.0.0.1, DNS:NAME,
#                                      CN NAME, signed by the CA. Idempotent: a CA or leaf that
#                                      is still valid (and, for a leaf, signed by this CA) is
#                                      kept. Keys are 0600.
#   genesis_cert_expired DIR NAME      DIR/NAME.{crt,key}: a leaf signed by DIR's CA that has
#                                      already expired (tests).
#   genesis_cert_other_ca DIR NAME     DIR/other-ca.{crt,key}, a second CA, and DIR/NAME.{crt,key}
#                                      signed by it (tests: a certificate from another CA).

_genesis_certs_ec_key() {  # FILE
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
  chmod 600 "$1"
}

# _genesis_certs_ca DIR BASENAME SUBJECT_CN: a CA unless a valid one is there.
_genesis_certs_ca() {
  local dir=$1 base=$2 cn=$3
  if [ -s "$dir/$base.crt" ] && [ -s "$dir/$base.key" ] \
    && openssl x509 -in "$dir/$base.crt" -noout -checkend 86400 >/dev/null 2>&1; then
    return 0
  fi
  _genesis_certs_ec_key "$dir/$base.key" || return 1
  openssl req -x509 -new -key "$dir/$base.key" -sha256 -days 3650 -subj "/CN=$cn" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/$base.crt" 2>/dev/null || { echo "certs: cannot make $dir/$base.crt" >&2; return 1; }
}

# _genesis_certs_leaf DIR NAME CA_BASENAME DAYS [expired]: a leaf signed by DIR/CA_BASENAME.
_genesis_certs_leaf() {
  local dir=$1 name=$2 ca=$3 days=$4 expired=${5:-}
  local ext
  ext=$(mktemp) || return 1
  cat >"$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:$name
EXT
  _genesis_certs_ec_key "$dir/$name.key" || { rm -f "$ext"; return 1; }
  local csr="$dir/$name.csr"
  openssl req -new -key "$dir/$name.key" -subj "/CN=$name" -out "$csr" 2>/dev/null || {
    rm -f "$ext"; echo "certs: cannot make a request for $name" >&2; return 1; }
  local rc=0
  if [ -n "$expired" ]; then
    # `openssl x509 -req` cannot back-date; `openssl ca` can (-startdate/-enddate).
    local db
    db=$(mktemp -d) || return 1
    : >"$db/index.txt"
    cat >"$db/ca.cnf" <<CNF
[ca]
default_ca=dev
[dev]
database=$db/index.txt
new_certs_dir=$db
serial=$db/serial
default_md=sha256
policy=any
copy_extensions=none
[any]
commonName=supplied
CNF
    printf '%s\n' "$(openssl rand -hex 8)" >"$db/serial"
    openssl ca -batch -config "$db/ca.cnf" -cert "$dir/$ca.crt" -keyfile "$dir/$ca.key" \
      -in "$csr" -out "$dir/$name.crt" -startdate 20200101000000Z -enddate 20200102000000Z \
      -extfile "$ext" -notext >/dev/null 2>&1 || rc=1
    rm -rf "$db"
  else
    openssl x509 -req -in "$csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
      -set_serial "0x$(openssl rand -hex 8)" -days "$days" -sha256 -extfile "$ext" \
      -out "$dir/$name.crt" 2>/dev/null || rc=1
  fi
  rm -f "$ext" "$csr"
  [ "$rc" = 0 ] || echo "certs: cannot sign $dir/$name.crt" >&2
  return "$rc"
}

genesis_certs() {
  local dir=${1:?usage: genesis_certs DIR NAME...}
  shift
  mkdir -p "$dir" && chmod 700 "$dir" || return 1
  local ca_before=""
  [ -s "$dir/ca.crt" ] && ca_before=$(openssl x509 -in "$dir/ca.crt" -noout -fingerprint 2>/dev/null)
  _genesis_certs_ca "$dir" ca "genesis dev CA" || return 1
  local ca_now
  ca_now=$(openssl x509 -in "$dir/ca.crt" -noout -fingerprint)
  local name
  for name in "$@"; do
    if [ "$ca_before" = "$ca_now" ] && [ -s "$dir/$name.crt" ] && [ -s "$dir/$name.key" ] \
      && openssl x509 -in "$dir/$name.crt" -noout -checkend 86400 >/dev/null 2>&1 \
      && openssl verify -CAfile "$dir/ca.crt" "$dir/$name.crt" >/dev/null 2>&1; then
      continue
    fi
    _genesis_certs_leaf "$dir" "$name" ca 825 || return 1
  done
}

genesis_cert_expired() {
  local dir=${1:?usage: genesis_cert_expired DIR NAME} name=${2:?usage: genesis_cert_expired DIR NAME}
  genesis_certs "$dir" || return 1
  _genesis_certs_leaf "$dir" "$name" ca 1 expired
}

genesis_cert_other_ca() {
  local dir=${1:?usage: genesis_cert_other_ca DIR NAME} name=${2:?usage: genesis_cert_other_ca DIR NAME}
  mkdir -p "$dir" && chmod 700 "$dir" || return 1
  _genesis_certs_ca "$dir" other-ca "genesis other CA" || return 1
  _genesis_certs_leaf "$dir" "$name" other-ca 825
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  genesis_certs "$@"
fi
