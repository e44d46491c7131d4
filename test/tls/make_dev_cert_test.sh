#!/usr/bin/env bash
# Checks scripts/make-dev-cert: the PKI it makes verifies with openssl, carries the names and
# uses the tests rely on, its broken certificates fail the way their names say, its keys are
# private, it refuses to overwrite, reports a missing openssl and openssl failures, and a real
# TLS 1.3 handshake (mutual TLS, openssl s_server and s_client on 127.0.0.1) succeeds with it.
# Exit 0 when every check passed, 1 otherwise, 77 (skipped) when openssl is not installed.
# usage: make_dev_cert_test.sh [path/to/make-dev-cert]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="${1:-$here/../../scripts/make-dev-cert}"

if ! command -v openssl >/dev/null 2>&1; then
  echo "skipped: the openssl command line tool is not installed (apt-get install openssl)"
  exit 77
fi
for tool in timeout grep cmp stat; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "skipped: '$tool' is not installed"
    exit 77
  fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/coronet-make-dev-cert.XXXXXX")"
server_pid=""
# Stops only the s_server this test started (through its `timeout` wrapper, which passes the
# signal on), then removes the scratch directory.
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_output DESCRIPTION TEXT FILE: FILE contains TEXT (fixed string).
expect_output() {
  if grep -qF -- "$2" "$3"; then pass "$1"; else fail "$1 (no '$2' in:)"; sed 's/^/  | /' "$3"; fi
}

echo "script: $script"
echo "openssl: $(openssl version)"

# --- The full set, timed. ---------------------------------------------------------------------
pki="$work/pki"
start_ns=$(date +%s%N)
if "$script" --self-signed --wrong-name --name extra.test "$pki" >"$work/make.out" 2>&1; then
  pass "make-dev-cert --self-signed --wrong-name --name extra.test exits 0"
else
  fail "make-dev-cert exited non-zero:"; sed 's/^/  | /' "$work/make.out"
  echo "FAILED: cannot check further"; exit 1
fi
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
# The brief is ~2 s; allow for a loaded shared machine before calling it a failure.
if [ "$elapsed_ms" -lt 5000 ]; then pass "made in ${elapsed_ms} ms"; else fail "took ${elapsed_ms} ms"; fi
expect_output "it prints what it made" "server-chain.pem" "$work/make.out"

for file in ca.pem ca.key server.pem server.key server-chain.pem client.pem client.key \
            self-signed.pem self-signed.key wrong-name.pem wrong-name.key; do
  [ -s "$pki/$file" ] || fail "$file was not made"
done
for key in ca server client self-signed wrong-name; do
  mode=$(stat -c %a "$pki/$key.key")
  if [ "$mode" = 600 ]; then pass "$key.key has mode 0600"; else fail "$key.key has mode $mode"; fi
done
leftovers=$(find "$pki" -mindepth 1 -name '.make-dev-cert.*')
if [ -z "$leftovers" ]; then pass "no scratch directory left in DIR"; else fail "left: $leftovers"; fi

cd "$pki"

# --- The CA and the certificates it issued. ---------------------------------------------------
if openssl verify -CAfile ca.pem server.pem client.pem >"$work/v.out" 2>&1; then
  pass "openssl verify -CAfile ca.pem server.pem client.pem"
else
  fail "openssl verify of server.pem and client.pem:"; sed 's/^/  | /' "$work/v.out"
fi
openssl x509 -in ca.pem -noout -ext basicConstraints,keyUsage >"$work/ca.ext"
expect_output "the CA has CA:TRUE" "CA:TRUE" "$work/ca.ext"
expect_output "the CA has keyUsage keyCertSign, cRLSign" "Certificate Sign, CRL Sign" "$work/ca.ext"

openssl x509 -in server.pem -noout -ext subjectAltName,extendedKeyUsage >"$work/server.ext"
expect_output "server SAN has DNS:localhost" "DNS:localhost" "$work/server.ext"
expect_output "server SAN has IP 127.0.0.1" "IP Address:127.0.0.1" "$work/server.ext"
expect_output "server SAN has IP ::1" "IP Address:0:0:0:0:0:0:0:1" "$work/server.ext"
expect_output "server SAN has --name extra.test" "DNS:extra.test" "$work/server.ext"
expect_output "server has extendedKeyUsage serverAuth" "TLS Web Server Authentication" \
  "$work/server.ext"
for target in "-verify_hostname localhost" "-verify_ip 127.0.0.1" "-verify_ip ::1" \
              "-verify_hostname extra.test" "-purpose sslserver"; do
  # shellcheck disable=SC2086 # $target is an option and its value
  if openssl verify -CAfile ca.pem $target server.pem >/dev/null 2>&1; then
    pass "server.pem verifies with $target"
  else
    fail "server.pem does not verify with $target"
  fi
done
if cat server.pem ca.pem | cmp -s - server-chain.pem; then
  pass "server-chain.pem is server.pem followed by ca.pem"
else
  fail "server-chain.pem is not server.pem followed by ca.pem"
fi

openssl x509 -in client.pem -noout -subject -ext extendedKeyUsage >"$work/client.ext"
expect_output "client CN is coronet-client" "CN = coronet-client" "$work/client.ext"
expect_output "client has extendedKeyUsage clientAuth" "TLS Web Client Authentication" \
  "$work/client.ext"
if openssl verify -CAfile ca.pem -purpose sslclient client.pem >/dev/null 2>&1; then
  pass "client.pem verifies for the purpose sslclient"
else
  fail "client.pem does not verify for the purpose sslclient"
fi

# --- The certificates that must fail. ---------------------------------------------------------
openssl x509 -in wrong-name.pem -noout -ext subjectAltName >"$work/wrong.ext"
if grep -Eq 'DNS:localhost(,|$)|127\.0\.0\.1|0:0:0:0:0:0:0:1' "$work/wrong.ext"; then
  fail "wrong-name.pem names localhost:"; sed 's/^/  | /' "$work/wrong.ext"
else
  pass "wrong-name.pem names neither localhost nor a loopback address"
fi
if [ "$(sed -n '2{s/^ *//;p}' "$work/wrong.ext")" = "DNS:not-localhost.example" ]; then
  pass "wrong-name.pem's only name is DNS:not-localhost.example"
else
  fail "wrong-name.pem's names:"; sed 's/^/  | /' "$work/wrong.ext"
fi
if openssl verify -CAfile ca.pem wrong-name.pem >/dev/null 2>&1; then
  pass "wrong-name.pem is otherwise valid (issued by the CA)"
else
  fail "wrong-name.pem does not verify against ca.pem at all"
fi
if openssl verify -CAfile ca.pem -verify_hostname localhost wrong-name.pem >"$work/v.out" 2>&1; then
  fail "wrong-name.pem verified for localhost"
else
  expect_output "wrong-name.pem is rejected for localhost" "hostname mismatch" "$work/v.out"
fi

if openssl verify -CAfile ca.pem self-signed.pem >"$work/v.out" 2>&1; then
  fail "self-signed.pem verified against ca.pem"
else
  expect_output "self-signed.pem is rejected by ca.pem" "self-signed certificate" "$work/v.out"
fi
if openssl verify -CAfile self-signed.pem -verify_hostname localhost self-signed.pem \
     >/dev/null 2>&1; then
  pass "self-signed.pem verifies for localhost when trusted itself (pinned)"
else
  fail "self-signed.pem does not verify even when trusted itself"
fi

# --- --expired, run with sh (dash on Debian) when there is one. --------------------------------
runner=()
if command -v sh >/dev/null 2>&1; then runner=(sh); fi
if "${runner[@]}" "$script" --expired "$work/expired" >"$work/make.out" 2>&1; then
  pass "make-dev-cert --expired exits 0 (run with: ${runner[*]:-its shebang})"
  if openssl verify -CAfile "$work/expired/ca.pem" "$work/expired/server.pem" >"$work/v.out" 2>&1
  then
    fail "the --expired server.pem verified"
  else
    expect_output "the --expired server.pem is rejected as expired" "certificate has expired" \
      "$work/v.out"
  fi
  if openssl x509 -in "$work/expired/server.pem" -noout -checkend 0 >/dev/null; then
    fail "the --expired server.pem has notAfter in the future"
  else
    pass "the --expired server.pem has notAfter in the past"
  fi
  if openssl verify -CAfile "$work/expired/ca.pem" "$work/expired/client.pem" >/dev/null 2>&1; then
    pass "with --expired, client.pem is still valid"
  else
    fail "with --expired, client.pem does not verify"
  fi
else
  fail "make-dev-cert --expired failed:"; sed 's/^/  | /' "$work/make.out"
fi

# --- Overwriting, usage errors, no openssl, openssl failing. ----------------------------------
before=$(cat ca.pem)
status=0; "$script" "$pki" >/dev/null 2>"$work/err" || status=$?
if [ "$status" -eq 3 ] && [ "$(cat ca.pem)" = "$before" ]; then
  pass "a second run refuses to overwrite (exit 3, ca.pem unchanged)"
else
  fail "a second run exited $status or changed ca.pem"
fi
expect_output "the refusal names --force" "--force" "$work/err"
status=0; "$script" --force "$pki" >/dev/null 2>"$work/err" || status=$?
if [ "$status" -eq 0 ] && [ "$(cat ca.pem)" != "$before" ] && [ ! -e wrong-name.pem ] &&
   [ ! -e self-signed.pem ] && openssl verify -CAfile ca.pem server.pem >/dev/null 2>&1; then
  pass "--force replaces the set (new CA, stale wrong-name/self-signed files removed)"
else
  fail "--force exited $status or left an inconsistent set:"; sed 's/^/  | /' "$work/err"
fi

status=0; "$script" --days 0 "$work/bad" >/dev/null 2>&1 || status=$?
if [ "$status" -eq 2 ]; then pass "--days 0 is a usage error (exit 2)"; else fail "--days 0 exited $status"; fi
if "$script" --help | grep -q -- "--expired"; then pass "--help documents --expired"; else fail "--help"; fi

status=0; env PATH=/nonexistent "$BASH" "$script" "$work/no-openssl" >/dev/null 2>"$work/err" ||
  status=$?
if [ "$status" -eq 4 ] && grep -q "'openssl' command line tool is not installed" "$work/err"; then
  pass "without openssl on PATH it says so (exit 4)"
else
  fail "without openssl on PATH it exited $status:"; sed 's/^/  | /' "$work/err"
fi

# An openssl that fails its third command: the script stops non-zero and leaves DIR empty.
mkdir "$work/fake-bin"
cat >"$work/fake-bin/openssl" <<EOF
#!/bin/sh
count=\$((\$(cat "$work/fake-bin/count" 2>/dev/null || echo 0) + 1))
echo "\$count" >"$work/fake-bin/count"
if [ "\$count" -eq 3 ]; then echo "fake openssl: failing on purpose" >&2; exit 1; fi
exec "$(command -v openssl)" "\$@"
EOF
chmod +x "$work/fake-bin/openssl"
status=0
PATH="$work/fake-bin:$PATH" "$script" "$work/failing" >/dev/null 2>"$work/err" || status=$?
if [ "$status" -eq 1 ] && [ -z "$(ls -A "$work/failing")" ] &&
   grep -q "failing on purpose" "$work/err"; then
  pass "an openssl failure stops it (exit 1, openssl's message shown, DIR left empty)"
else
  fail "with a failing openssl it exited $status; DIR holds: $(ls -A "$work/failing")"
fi

# --- A real handshake: mutual TLS between openssl s_server and s_client on 127.0.0.1. ----------
# start_server CERT KEY [S_SERVER_ARGS...]: listens on a free port (tries random ones until
# s_server reports ACCEPT; a taken port makes it exit at once) and sets $port and $server_pid.
start_server() {
  local cert=$1 key=$2 _attempt _poll
  shift 2
  for _attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    : >"$work/server.out"
    timeout 30 openssl s_server -accept "127.0.0.1:$port" -cert "$cert" -key "$key" \
      -www -naccept 1 "$@" >"$work/server.out" 2>"$work/server.err" </dev/null &
    server_pid=$!
    for _poll in $(seq 100); do
      if grep -q '^ACCEPT' "$work/server.out"; then return 0; fi
      if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
      sleep 0.05
    done
    stop_server
  done
  echo "could not start openssl s_server (last attempt port $port):"
  sed 's/^/  | /' "$work/server.err"
  return 1
}
# connect [S_CLIENT_ARGS...]: one s_client run against $port, output in $work/client.out.
connect() {
  timeout 15 openssl s_client -connect "127.0.0.1:$port" -CAfile ca.pem -verify_return_error \
    "$@" </dev/null >"$work/client.out" 2>&1
}

"$script" --force --wrong-name "$pki" >/dev/null
if start_server server.pem server.key -CAfile ca.pem -Verify 1 -verify_return_error; then
  if connect -verify_hostname localhost -cert client.pem -key client.key; then
    pass "mutual TLS handshake with s_server (server.pem) and s_client (client.pem) on port $port"
    expect_output "s_client verified the server" "Verification: OK" "$work/client.out"
    expect_output "s_client verified the name localhost" "Verified peername: localhost" \
      "$work/client.out"
    stop_server
    expect_output "s_server verified the client certificate" "CN = coronet-client" \
      "$work/server.err"
  else
    fail "the handshake failed:"; sed 's/^/  | /' "$work/client.out"
  fi
fi
stop_server

if start_server wrong-name.pem wrong-name.key; then
  if connect -verify_hostname localhost; then
    fail "s_client accepted wrong-name.pem for localhost"
  else
    expect_output "s_client rejects wrong-name.pem for localhost in a handshake" \
      "hostname mismatch" "$work/client.out"
  fi
fi
stop_server

cd /
if [ "$failures" -eq 0 ]; then
  echo "PASSED: every make-dev-cert check"
  exit 0
fi
echo "FAILED: $failures check(s)"
exit 1
