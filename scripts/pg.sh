#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server for tests and the demo.
#
#   scripts/pg.sh start    # initdb into a temp dir, start on a free loopback port
#   scripts/pg.sh env      # print `export PGHOST=... PGPORT=...` lines (eval them)
#   scripts/pg.sh status   # exit 0 if our server is running
#   scripts/pg.sh stop     # stop it and delete its data directory
#   scripts/pg.sh install  # only make sure the PostgreSQL 15 binaries are present
#
# The server listens on 127.0.0.1 only (password auth) and on a unix socket inside
# its temp dir (trust), never on the machine's default socket. initdb refuses to
# run as root, so as root the server runs as a throw-away system user
# ($PG_OS_USER, default tapmixmax_pg), created on first use.
#
# On a machine without initdb, `start` installs Debian's postgresql-15 package
# (root only). State lives in $PG_STATE_FILE (default .tools/pg/state.env), so
# `stop` finds the server that `start` made; set PG_STATE_FILE to run several.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_STATE_FILE="${PG_STATE_FILE:-$REPO/.tools/pg/state.env}"
PG_OS_USER="${PG_OS_USER:-tapmixmax_pg}"
PG_DB_USER="${PG_DB_USER:-tapmixmax}"
PG_DB_PASSWORD="${PG_DB_PASSWORD:-tapmixmax}"
PG_DB_NAME="${PG_DB_NAME:-warehouse}"

log() { echo "pg.sh: $*" >&2; }

find_bindir() {
    local cand
    for cand in "${PG_BINDIR:-}" /usr/lib/postgresql/15/bin "$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"; do
        if [[ -n "$cand" && -x "$cand/initdb" && -x "$cand/pg_ctl" ]]; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}

install_pg() {
    if find_bindir >/dev/null; then
        return 0
    fi
    if [[ "$(id -u)" != 0 ]]; then
        log "initdb not found; install PostgreSQL 15 (Debian: apt-get install postgresql-15) or set PG_BINDIR"
        exit 1
    fi
    log "initdb not found: installing Debian's postgresql-15"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The package's own cluster is not wanted: we run our own in a temp dir.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/tapmixmax.conf
    apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 >/dev/null
    find_bindir >/dev/null || { log "postgresql-15 installed but initdb still not found"; exit 1; }
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# Run a command as the OS user that owns the cluster.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u "$PG_OS_USER" -- "$@"
    else
        "$@"
    fi
}

is_running() {
    [[ -f "$PG_STATE_FILE" ]] || return 1
    # shellcheck disable=SC1090
    (source "$PG_STATE_FILE" && as_owner "$PG_BINDIR_USED/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1)
}

print_env() {
    # shellcheck disable=SC1090
    source "$PG_STATE_FILE"
    cat <<EOF
export PGHOST=$PGHOST
export PGPORT=$PGPORT
export PGUSER=$PGUSER
export PGPASSWORD=$PGPASSWORD
export PGDATABASE=$PGDATABASE
EOF
}

cmd_start() {
    if is_running; then
        log "already running ($PG_STATE_FILE)"
        return 0
    fi
    rm -f "$PG_STATE_FILE"
    install_pg
    local bindir tmp port
    bindir="$(find_bindir)"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/tapmixmax-pg.XXXXXX")"
    if [[ "$(id -u)" == 0 ]]; then
        if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
            log "creating system user $PG_OS_USER"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
        fi
        chown "$PG_OS_USER" "$tmp"
    fi
    chmod 700 "$tmp"
    printf '%s\n' "$PG_DB_PASSWORD" >"$tmp/pwfile"
    [[ "$(id -u)" == 0 ]] && chown "$PG_OS_USER" "$tmp/pwfile"
    as_owner "$bindir/initdb" -D "$tmp/data" -U "$PG_DB_USER" --pwfile="$tmp/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$tmp/initdb.log" 2>&1 ||
        { cat "$tmp/initdb.log" >&2; exit 1; }
    rm -f "$tmp/pwfile"
    # Loopback only: replace the default host lines with 127.0.0.1 and ::1.
    as_owner bash -c "cat >'$tmp/data/pg_hba.conf'" <<EOF
local all all trust
host  all all 127.0.0.1/32 scram-sha-256
host  all all ::1/128      scram-sha-256
EOF
    local attempt
    for attempt in 1 2 3; do
        port="$(free_port)"
        if as_owner "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            break
        fi
        log "start on port $port failed (attempt $attempt)"
        tail -5 "$tmp/server.log" >&2 || true
        [[ $attempt == 3 ]] && exit 1
    done
    as_owner "$bindir/psql" -h "$tmp" -p "$port" -U "$PG_DB_USER" -d postgres -qAtX \
        -c "CREATE DATABASE \"$PG_DB_NAME\"" >/dev/null
    mkdir -p "$(dirname "$PG_STATE_FILE")"
    cat >"$PG_STATE_FILE" <<EOF
PG_TMP=$tmp
PG_DATA=$tmp/data
PG_BINDIR_USED=$bindir
PGHOST=127.0.0.1
PGPORT=$port
PGUSER=$PG_DB_USER
PGPASSWORD=$PG_DB_PASSWORD
PGDATABASE=$PG_DB_NAME
EOF
    log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, database $PG_DB_NAME, data in $tmp"
}

cmd_stop() {
    if [[ ! -f "$PG_STATE_FILE" ]]; then
        log "not running (no $PG_STATE_FILE)"
        return 0
    fi
    # shellcheck disable=SC1090
    source "$PG_STATE_FILE"
    if [[ -d "$PG_DATA" ]]; then
        as_owner "$PG_BINDIR_USED/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    case "$PG_TMP" in
        */tapmixmax-pg.*) rm -rf "$PG_TMP" ;;
    esac
    rm -f "$PG_STATE_FILE"
    log "stopped"
}

case "${1:-}" in
    start) cmd_start; print_env ;;
    stop) cmd_stop ;;
    env) is_running || { log "not running"; exit 1; }; print_env ;;
    status) is_running ;;
    install) install_pg ;;
    *) echo "usage: $0 start|stop|env|status|install" >&2; exit 2 ;;
esac
