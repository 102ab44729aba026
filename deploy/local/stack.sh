#!/usr/bin/env bash
# Starts / stops the four OneStop services and the console as background processes on this machine.
#   stack.sh up      start what is not running, wait until every /readyz answers 200
#   stack.sh down    stop them (SIGTERM, then SIGKILL after 20 s)
#   stack.sh status
# ONESTOP_DB=postgres uses the local PostgreSQL (one database per service); default: SQLite files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${ONESTOP_RUN_DIR:-$ROOT/.run}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
SERVICES=(intake processing notifications reporting console)
declare -A PORT=([intake]=8001 [processing]=8002 [notifications]=8003 [reporting]=8004 [console]=8000)
mkdir -p "$RUN/logs" "$RUN/pids"

alive() { [ -f "$RUN/pids/$1.pid" ] && kill -0 "$(cat "$RUN/pids/$1.pid")" 2>/dev/null; }

db_env() {
  [ "${ONESTOP_DB:-sqlite}" = postgres ] && [ "$1" != console ] || return 0  # the console has no database
  local upper="${1^^}"
  export "ONESTOP_${upper}_DATABASE_URL=$("$ROOT/deploy/local/postgres/pg.sh" url "onestop_$1")"
}

start_one() {
  local svc=$1
  if alive "$svc"; then echo "$svc already running (pid $(cat "$RUN/pids/$svc.pid"))"; return; fi
  # exec: the pid file holds the service's own pid, and nothing keeps the caller's output open.
  (
    cd "$ROOT"
    db_env "$svc"
    export ONESTOP_RUN_DIR="$RUN"
    # The console on this host passes each citizen's address on in X-Forwarded-For: intake believes it from
    # here only (its look-up limit is per citizen, not one bucket for everyone who uses the console).
    export ONESTOP_INTAKE_TRUSTED_PROXIES="${ONESTOP_INTAKE_TRUSTED_PROXIES:-127.0.0.1}"
    exec nohup "$PY" -m "services.$svc" >>"$RUN/logs/$svc.log" 2>&1 </dev/null
  ) &
  echo $! >"$RUN/pids/$svc.pid"
}

wait_ready() {
  local svc=$1 port=${PORT[$1]}
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0
    alive "$svc" || { echo "$svc died; last log lines:" >&2; tail -n 30 "$RUN/logs/$svc.log" >&2; return 1; }
    sleep 0.5
  done
  echo "$svc not ready after 60 s" >&2; tail -n 30 "$RUN/logs/$svc.log" >&2; return 1
}

stop_one() {
  local svc=$1
  alive "$svc" || { rm -f "$RUN/pids/$svc.pid"; return 0; }
  local pid; pid=$(cat "$RUN/pids/$svc.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/pids/$svc.pid"
  echo "$svc stopped"
}

case "${1:-}" in
  up)
    for s in "${SERVICES[@]}"; do start_one "$s"; done
    for s in "${SERVICES[@]}"; do wait_ready "$s"; done ;;
  down) for s in "${SERVICES[@]}"; do stop_one "$s"; done ;;
  status)
    for s in "${SERVICES[@]}"; do
      if alive "$s"; then echo "$s up (pid $(cat "$RUN/pids/$s.pid")) http://127.0.0.1:${PORT[$s]}"; else echo "$s down"; fi
    done ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
