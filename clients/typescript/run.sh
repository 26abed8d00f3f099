#!/usr/bin/env bash
# Builds the TypeScript client against a tenantry binary and runs the README's tour with it.
#
#   bash clients/typescript/run.sh [path/to/tenantry]   (default: target/debug/tenantry)
#
# The types are generated from that binary's own OpenAPI document, compiled with `tsc --strict`,
# then the tour runs against that binary serving a fresh SQLite database on a free loopback port.
# Prints the tour's closing line, `tour: N passed, 0 failed`; exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${1:-$here/../../target/debug/tenantry}"
[[ -x "$bin" ]] || { echo "run.sh: no tenantry binary at $bin" >&2; exit 2; }
# Made absolute before the cd below, so a path relative to the caller's directory works.
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
cd "$here"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Dependencies: reinstalled from the lockfile when missing or older than it (npm ci writes
# node_modules/.package-lock.json as it installs).
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# Types from this binary's document, then a strict compile (a type error fails the run here).
"$bin" openapi >"$work/openapi.json"
node scripts/generate.mjs "$work/openapi.json"
rm -rf dist
npx tsc --strict -p .

# A free port: the kernel picks one, and it is released just before the server binds it.
port="$(node -e '
  const server = require("node:net").createServer();
  server.listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); });
')"
base="http://127.0.0.1:$port"

# In the scratch directory and with no inherited TENANTRY_* settings, so neither a tenantry.toml
# nearby nor the caller's environment changes what the tour sees.
(
  cd "$work"
  for name in $(compgen -e | grep '^TENANTRY_' || true); do unset "$name"; done
  export TENANTRY_BIND="127.0.0.1:$port" \
    TENANTRY_DATABASE_URL="sqlite://$work/tenantry.db?mode=rwc" \
    TENANTRY_ADMIN_TOKEN=admin-secret \
    TENANTRY_SERVICE_TOKENS=host-secret \
    TENANTRY_LOG=warn
  exec "$bin" serve
) >"$work/server.log" 2>&1 &
server_pid=$!

healthy() {
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$base/health"
}
# Up to ~30 s for /health; give up at once if the server has already exited.
deadline=$((SECONDS + 30))
until healthy; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "run.sh: the server exited during start-up:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "run.sh: no answer from $base/health after 30 s:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

status=0
TENANTRY_URL="$base" TENANTRY_ADMIN_TOKEN=admin-secret TENANTRY_SERVICE_TOKEN=host-secret \
  timeout 120 node dist/tour.js || status=$?
if [[ $status -ne 0 ]]; then
  echo "run.sh: the tour failed ($status); server log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
