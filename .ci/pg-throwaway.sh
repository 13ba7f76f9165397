#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the test suite and prints the URL to use:
#
#   export SESAME_TEST_POSTGRES_URL="$(.ci/pg-throwaway.sh)"   # start, or reuse if running
#   .ci/pg-throwaway.sh stop                                   # stop and delete it
#
# Idempotent: a cluster already running in the state directory is reused. It listens on
# 127.0.0.1 only (first free port from $SESAME_PG_PORT, default 55432), keeps its socket in the
# state directory, trusts every local connection and runs with fsync off: test data only.
# PostgreSQL refuses to run as root, so as root the cluster runs as `postgres` (or `pgtest`,
# created if needed). Everything but the URL goes to stderr.
set -euo pipefail

STATE=${SESAME_PG_DIR:-/tmp/sesame-pg-throwaway}
PORT=${SESAME_PG_PORT:-55432}
DATA="$STATE/data"
log() { echo "pg-throwaway: $*" >&2; }

bindir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
        log "no PostgreSQL binaries (initdb, pg_ctl) found; install the 'postgresql' package"
        exit 1
    fi
    echo "$d"
}
BIN=$(bindir)

# Runs a command as the cluster's owner.
RUN_AS=""
if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then
        RUN_AS=postgres
    else
        id pgtest >/dev/null 2>&1 || useradd --system --create-home pgtest
        RUN_AS=pgtest
    fi
fi
as_owner() {
    if [ -n "$RUN_AS" ]; then
        su -s /bin/sh "$RUN_AS" -c "$(printf '%q ' "$@")"
    else
        "$@"
    fi
}

url() { echo "postgres://postgres@127.0.0.1:$(cat "$STATE/port")/postgres"; }

running() {
    [ -f "$STATE/port" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "${1:-start}" = stop ]; then
    if running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    fi
    rm -rf "$STATE"
    log "stopped"
    exit 0
fi

if running; then
    log "reusing the cluster in $STATE"
    url
    exit 0
fi

# A leftover from a crashed run: start afresh.
rm -rf "$STATE"
mkdir -p "$STATE"
[ -n "$RUN_AS" ] && chown "$RUN_AS" "$STATE"
while ! port_free "$PORT"; do
    PORT=$((PORT + 1))
done
echo "$PORT" >"$STATE/port"

log "initdb in $DATA ($BIN)"
as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$STATE/initdb.log" 2>&1 || { cat "$STATE/initdb.log" >&2; exit 1; }
log "starting on 127.0.0.1:$PORT"
as_owner "$BIN/pg_ctl" -D "$DATA" -l "$STATE/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $STATE -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >&2 || { cat "$STATE/server.log" >&2; exit 1; }
url
