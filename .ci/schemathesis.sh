#!/usr/bin/env bash
# Property-based tests of the HTTP API against its own OpenAPI document: Schemathesis generates
# requests from /openapi.json (valid and invalid ones) and checks every answer against it — no
# 5xx, every status and body as documented, invalid input refused, valid input accepted,
# authentication enforced. Runs the already-built `target/debug/tenantry serve` on a fresh SQLite
# database, once with a user's access token and once with the instance admin token.
#
# Usage: .ci/schemathesis.sh [path/to/tenantry]   (default: target/debug/tenantry)
# Exits non-zero on any failure. Takes about three minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
BIN="${1:-target/debug/tenantry}"
if [ ! -x "$BIN" ]; then
    echo "no server binary at $BIN: run \`cargo build -p tenantry\` first" >&2
    exit 1
fi
if ! python3 -m schemathesis.cli --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A free port on the loopback interface, chosen by the kernel.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_token="schemathesis-admin-$RANDOM$RANDOM"
service_token="schemathesis-service-$RANDOM$RANDOM"

# Only the settings named here: none of the caller's TENANTRY_* variables leak into the run.
for name in $(env | sed -n 's/^\(TENANTRY_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$name"; done
TENANTRY_BIND="127.0.0.1:$port" \
    TENANTRY_DATABASE_URL="sqlite://$work/tenantry.db" \
    TENANTRY_ADMIN_TOKEN="$admin_token" \
    TENANTRY_SERVICE_TOKENS="$service_token" \
    TENANTRY_LOG=warn \
    "$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fs "$base/health" >/dev/null 2>&1 && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        cat "$work/server.log" >&2
        echo "the server did not start" >&2
        exit 1
    fi
    sleep 0.1
done

# A user, and their access token (it lasts 15 minutes: longer than the run).
user_token=$(curl -fsS "$base/v1/auth/signup" -H 'content-type: application/json' \
    -d '{"email":"schemathesis@example.com","password":"correct horse battery","display_name":"Schemathesis"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["access_token"])')

# Operations left out of the run, each because answering it ends what the rest of the run relies
# on (the caller's session or account), not because of what it answers:
excluded=(
    # Ends the session of the user token the run is made with; every later request would be 401.
    --exclude-operation-id logout
    # Ends every other session; harmless, but with it goes the run's own one whenever the
    # generated token happens to be the current one (it is, under the user token).
    --exclude-operation-id revoke_other_sessions
)

# What the run leaves out or pins, each with its reason. Everything else runs with every check.
cat >"$work/schemathesis.toml" <<'TOML'
# A cursor is opaque: only a `next_cursor` the server issued is valid (anything else is a 400, as
# documented), and no schema can tell one apart from a made-up string. Lists are fuzzed from
# their first page.
[parameters]
"query.cursor" = ""

TOML

# `positive_data_acceptance` (a schema-valid request must not be refused with a 4xx other than
# 401/403/404/409/429) does not hold for these operations: each refuses, by design, values that no
# schema can tell apart from good ones. They run in a pass of their own with every other check.
refuses_by_design=(
    # A secret that must match: an emailed token, the account's password, a current TOTP code.
    verify_email confirm_password_reset confirm_totp disable_totp transfer_ownership
    # Something that must exist: the org's owner, the last event read.
    admin_create_org read_event_log
    # Names the deployment's preset defines (permissions, team roles), which the document, the
    # same for every deployment, does not list.
    authorize add_team_member
    # A time relative to the server's clock: a key's expiry must be in the future.
    create_key
    # The outside world: a webhook URL's host must resolve to a public address.
    create_webhook
    # Who asks: the instance admin has no org of its own to report usage for.
    my_usage
)
only_those=() all_but_those=()
for id in "${refuses_by_design[@]}"; do
    only_those+=(--include-operation-id "$id")
    all_but_those+=(--exclude-operation-id "$id")
done

status=0
run() {
    local label=$1 token=$2
    echo "== schemathesis as $label"
    # Phases: examples (every documented example), coverage (each constraint's boundaries, valid
    # and invalid) and fuzzing; the stateful phase is left out to keep the run within minutes.
    python3 -m schemathesis.cli --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
        --checks all \
        --phases examples,coverage,fuzzing \
        --max-examples 15 \
        --workers 2 \
        --seed 20251207 \
        --generation-database none \
        --request-timeout 10 \
        --no-color \
        -H "Authorization: Bearer $token" \
        "${excluded[@]}" "${@:3}" || status=1
}

run user "$user_token" "${all_but_those[@]}"
run admin "$admin_token" "${all_but_those[@]}"
run "user (refusing by design)" "$user_token" "${only_those[@]}" --exclude-checks positive_data_acceptance
run "admin (refusing by design)" "$admin_token" "${only_those[@]}" --exclude-checks positive_data_acceptance

if [ "$status" -ne 0 ]; then
    echo "schemathesis found failures; the server's log:" >&2
    tail -n 50 "$work/server.log" >&2
fi
exit "$status"
