#!/usr/bin/env bash
# Local PostgreSQL for OneStop development and CI (no Docker, no systemd).
#
# One private cluster for all service databases (DESIGN.md §5, §10), kept under
#   ${ONESTOP_RUN_DIR:-<repo>/.run}/postgres/{data,postgres.log,.s.PGSQL.<port>}
# listening on 127.0.0.1:${PGPORT:-5432}. Debian's own "main" cluster is never used.
#
# Usage: deploy/local/postgres/pg.sh <command>
#   install              apt-get install postgresql when no pg_ctl exists (needs root)
#   start                initdb on first start, then start; idempotent; waits for pg_isready
#   stop                 fast shutdown (data kept)
#   kill9                SIGKILL the postmaster (chaos tests); data kept, the next start recovers from the WAL
#   status               exit 0 when running, 3 when stopped
#   wipe                 stop and delete the cluster (all data!)
#   createdbs [names..]  role onestop/onestop + databases owned by it (idempotent)
#                        default: onestop_intake onestop_processing onestop_notifications onestop_reporting
#   dropdb NAME          drop one database (forcing out its connections)
#   url NAME             print the SQLAlchemy URL of database NAME
#
# Environment: ONESTOP_RUN_DIR, PGPORT (default 5432).
# Run as root (the server then runs as the `postgres` OS user via runuser) or as an ordinary
# user (the server then runs as that user).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../../.." && pwd)"
RUN_DIR="${ONESTOP_RUN_DIR:-$REPO_DIR/.run}"
PG_DIR="$RUN_DIR/postgres"
DATA_DIR="$PG_DIR/data"
LOG_FILE="$PG_DIR/postgres.log"
PORT="${PGPORT:-5432}"
HOST=127.0.0.1
APP_ROLE=onestop
APP_PASSWORD=onestop
DEFAULT_DBS=(onestop_intake onestop_processing onestop_notifications onestop_reporting)

die() { echo "pg.sh: $*" >&2; exit 1; }
log() { echo "pg.sh: $*"; }

pg_bin_dir() {
  local d
  d="$(newest_pg_ctl)"
  d="${d%/pg_ctl}"
  [[ -n "$d" && -x "$d/pg_ctl" ]] || die "PostgreSQL server binaries not found; run: $0 install"
  echo "$d"
}

newest_pg_ctl() { # newest /usr/lib/postgresql/<ver>/bin/pg_ctl, empty when none
  local f
  for f in /usr/lib/postgresql/*/bin/pg_ctl; do if [[ -x "$f" ]]; then echo "$f"; fi; done | sort -V | tail -n 1
}

# Run a command as the OS user that owns the cluster.
as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Superuser psql over the unix socket (local connections use trust auth).
psql_admin() {
  "$(pg_bin_dir)/psql" -X -q -h "$PG_DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

# A postmaster killed with -9 stays a zombie until PID 1 reaps it (takes ~2 s on some VMs/containers);
# pg_ctl and postgres itself would take it for a live server, so wait for it to go.
wait_zombie_postmaster() {
  local pid
  pid="$(head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  for _ in $(seq 1 40); do
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)" == Z ]] || return 0
    sleep 0.25
  done
}

is_running() {
  [[ -f "$DATA_DIR/PG_VERSION" ]] || return 1
  wait_zombie_postmaster
  as_pg "$(pg_bin_dir)/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

check_name() {
  [[ "$1" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "invalid database name '$1' (use [a-z_][a-z0-9_]*)"
}

cmd_install() {
  if [[ -n "$(newest_pg_ctl)" ]]; then
    log "PostgreSQL already installed: $(newest_pg_ctl)"
    return 0
  fi
  [[ "$(id -u)" -eq 0 ]] || die "install needs root (apt-get)"
  # Keep the package from starting Debian's own cluster (it would take port 5432):
  # invoke-rc.d / deb-systemd-invoke honour policy-rc.d exit code 101 = "action forbidden".
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  if [[ "$created_policy" -eq 1 ]]; then rm -f "$policy"; trap - EXIT; fi
  # On a systemd host, keep Debian's cluster from starting at boot as well.
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
  log "installed: $(newest_pg_ctl)"
}

write_conf() {
  # Regenerated on every start so PGPORT / ONESTOP_RUN_DIR changes take effect.
  local tmp
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
# Written by deploy/local/postgres/pg.sh on every start; edits are overwritten.
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$PG_DIR'
unix_socket_permissions = 0700
max_connections = 200
# Development/test speed only: a crash of the machine may lose or corrupt this throwaway cluster.
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
log_timezone = 'UTC'
# Statement counts per database for the benchmarks (bench/pipeline.py reads them); costs next to nothing.
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
EOF
  install -m 0600 "$tmp" "$DATA_DIR/onestop.conf"
  rm -f "$tmp"
  [[ "$(id -u)" -ne 0 ]] || chown postgres:postgres "$DATA_DIR/onestop.conf"
}

cmd_start() {
  local bin
  bin="$(pg_bin_dir)"
  if is_running; then
    "$bin/pg_isready" -q -h "$HOST" -p "$PORT" \
      || die "cluster in $DATA_DIR runs but does not answer on $HOST:$PORT (started with another PGPORT?); run: $0 stop"
    log "already running on $HOST:$PORT ($DATA_DIR)"
    return 0
  fi
  if port_in_use; then
    die "something else already listens on $HOST:$PORT (Debian's own cluster? see 'pg_lsclusters'; stop it with 'pg_ctlcluster <ver> main stop') — or use another port: PGPORT=$((PORT + 1)) $0 start"
  fi

  mkdir -p "$PG_DIR"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres:postgres "$PG_DIR"
    runuser -u postgres -- test -w "$PG_DIR" \
      || die "user postgres cannot reach $PG_DIR (a parent directory is not searchable); set ONESTOP_RUN_DIR elsewhere, e.g. /tmp/onestop-run"
  fi
  chmod 0700 "$PG_DIR"

  if [[ ! -f "$DATA_DIR/PG_VERSION" ]]; then
    log "initdb $DATA_DIR"
    as_pg "$bin/initdb" -D "$DATA_DIR" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 \
      || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    [[ "$(id -u)" -ne 0 ]] || chown postgres:postgres "$PG_DIR/initdb.log"
    echo "include_if_exists = 'onestop.conf'" >>"$DATA_DIR/postgresql.conf"
  fi
  write_conf

  log "starting on $HOST:$PORT (log: $LOG_FILE)"
  if ! as_pg "$bin/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t 60 >/dev/null; then
    tail -n 30 "$LOG_FILE" >&2 || true
    die "pg_ctl start failed"
  fi
  for _ in $(seq 1 60); do
    if "$bin/pg_isready" -q -h "$HOST" -p "$PORT"; then
      log "ready"
      return 0
    fi
    sleep 0.5
  done
  tail -n 30 "$LOG_FILE" >&2 || true
  die "server did not become ready on $HOST:$PORT"
}

cmd_stop() {
  if is_running; then
    as_pg "$(pg_bin_dir)/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t 60 >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

# A crash: SIGKILL the postmaster. Its backends notice within moments and exit on their own; the next start
# refuses to run while any of them still holds the old shared memory, so wait for them (and SIGKILL what
# is left after 10 s: a crashed machine leaves none either).
cmd_kill9() {
  local pid children
  if ! is_running; then
    log "not running"
    return 0
  fi
  pid="$(head -n 1 "$DATA_DIR/postmaster.pid")"
  children="$(pgrep -P "$pid" || true)"
  kill -KILL "$pid"
  for _ in $(seq 1 40); do
    local alive=""
    for c in $children; do kill -0 "$c" 2>/dev/null && alive="$alive $c"; done
    [[ -z "$alive" ]] && break
    sleep 0.25
  done
  for c in $children; do kill -KILL "$c" 2>/dev/null || true; done
  wait_zombie_postmaster
  log "killed postmaster $pid with SIGKILL"
}

cmd_status() {
  if is_running; then
    log "running on $HOST:$PORT (data: $DATA_DIR, log: $LOG_FILE)"
    return 0
  fi
  log "stopped (data: $DATA_DIR$([[ -f "$DATA_DIR/PG_VERSION" ]] || echo ', not initialised'))"
  return 3
}

cmd_wipe() {
  cmd_stop
  rm -rf "$PG_DIR"
  log "wiped $PG_DIR"
}

cmd_createdbs() {
  is_running || die "not running; run: $0 start"
  local names=("$@") n
  [[ ${#names[@]} -gt 0 ]] || names=("${DEFAULT_DBS[@]}")
  for n in "${names[@]}"; do check_name "$n"; done
  psql_admin <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
    CREATE ROLE $APP_ROLE LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
  END IF;
END
\$\$;
-- The benchmarks read statement counts of every service database (bench/pipeline.py).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
GRANT pg_read_all_stats TO $APP_ROLE;
EOF
  for n in "${names[@]}"; do
    psql_admin >/dev/null <<EOF
SELECT format('CREATE DATABASE %I OWNER %I', '$n', '$APP_ROLE')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$n') \gexec
EOF
    log "database $n ok -> $(cmd_url "$n")"
  done
}

cmd_dropdb() {
  [[ $# -eq 1 ]] || die "usage: $0 dropdb NAME"
  check_name "$1"
  is_running || die "not running; run: $0 start"
  psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"
  log "dropped $1"
}

cmd_url() {
  [[ $# -eq 1 ]] || die "usage: $0 url NAME"
  echo "postgresql+asyncpg://$APP_ROLE:$APP_PASSWORD@$HOST:$PORT/$1"
}

usage() {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    kill9) cmd_kill9 ;;
    status) cmd_status ;;
    wipe) cmd_wipe ;;
    createdbs) cmd_createdbs "$@" ;;
    dropdb) cmd_dropdb "$@" ;;
    url) cmd_url "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
