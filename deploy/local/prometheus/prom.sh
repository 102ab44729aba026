#!/usr/bin/env bash
# Local Prometheus for OneStop development and CI (no Docker, no systemd).
#
# Runs Debian's `prometheus` binary with deploy/prometheus/prometheus.yml, TSDB and log under
#   ${ONESTOP_RUN_DIR:-<repo>/.run}/prometheus/{data,prometheus.log,prometheus.pid}
# listening on 127.0.0.1:${PROM_PORT:-9090}, lifecycle API on (POST /-/reload, /-/quit).
#
# Usage: deploy/local/prometheus/prom.sh <command>
#   install   apt-get install prometheus when prometheus/promtool are missing (needs root);
#             Debian's own prometheus service is kept from starting
#   start     check the config with promtool, start in the background; idempotent; waits for /-/ready
#   stop      stop our instance (data kept)
#   status    exit 0 when running, 3 when stopped
#   reload    re-check the config and hot-reload it (rules included)
#
# Environment: ONESTOP_RUN_DIR, PROM_PORT (default 9090), PROM_RETENTION (default 2d).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/../../.." && pwd)"
RUN_DIR="${ONESTOP_RUN_DIR:-$REPO_DIR/.run}"
PROM_DIR="$RUN_DIR/prometheus"
DATA_DIR="$PROM_DIR/data"
LOG_FILE="$PROM_DIR/prometheus.log"
PID_FILE="$PROM_DIR/prometheus.pid"
CONFIG="$REPO_DIR/deploy/prometheus/prometheus.yml"
PORT="${PROM_PORT:-9090}"
RETENTION="${PROM_RETENTION:-2d}"
HOST=127.0.0.1
BASE_URL="http://$HOST:$PORT"

die() { echo "prom.sh: $*" >&2; exit 1; }
log() { echo "prom.sh: $*"; }

need_bins() {
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
    die "prometheus/promtool not found; run: $0 install"
  fi
}

http() { # http METHOD URL -> body on stdout, non-zero on failure
  curl -fsS --max-time 5 -X "$1" "$2"
}

alive() { # a killed process can stay a zombie until PID 1 reaps it: count that as gone
  kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)" != Z ]]
}

our_pid() { # prints the pid of our instance, fails when not running
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--storage.tsdb.path=$DATA_DIR" || return 1
  echo "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

check_config() {
  [[ -f "$CONFIG" ]] || die "config not found: $CONFIG"
  promtool check config "$CONFIG" >"$PROM_DIR/promtool.log" 2>&1 \
    || { cat "$PROM_DIR/promtool.log" >&2; die "promtool check config failed"; }
}

cmd_install() {
  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    log "already installed: $(prometheus --version 2>&1 | head -n 1)"
    return 0
  fi
  [[ "$(id -u)" -eq 0 ]] || die "install needs root (apt-get)"
  # Debian's package starts its own service (/etc/init.d/prometheus or the systemd unit) on port 9090.
  # invoke-rc.d / deb-systemd-invoke honour policy-rc.d exit code 101 = "action forbidden".
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  # --no-install-recommends: skips prometheus-node-exporter (another daemon we do not want).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  if [[ "$created_policy" -eq 1 ]]; then rm -f "$policy"; trap - EXIT; fi
  # Belt and braces: make sure Debian's instance is neither running nor started at boot.
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  elif [[ -x /etc/init.d/prometheus ]]; then
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
  log "installed: $(prometheus --version 2>&1 | head -n 1)"
}

wait_ready() {
  local pid="$1"
  for _ in $(seq 1 60); do
    if http GET "$BASE_URL/-/ready" >/dev/null 2>&1; then
      return 0
    fi
    alive "$pid" || { tail -n 30 "$LOG_FILE" >&2 || true; die "prometheus exited during start-up"; }
    sleep 0.5
  done
  tail -n 30 "$LOG_FILE" >&2 || true
  die "prometheus did not become ready at $BASE_URL/-/ready"
}

cmd_start() {
  need_bins
  mkdir -p "$DATA_DIR"
  local pid
  if pid="$(our_pid)"; then
    http GET "$BASE_URL/-/ready" >/dev/null 2>&1 \
      || die "our instance (pid $pid) runs but does not answer at $BASE_URL (started with another PROM_PORT, or still starting?); run: $0 stop"
    log "already running (pid $pid) at $BASE_URL"
    return 0
  fi
  rm -f "$PID_FILE"
  if port_in_use; then
    die "something else already listens on $HOST:$PORT (Debian's prometheus service? try '/etc/init.d/prometheus stop' or 'systemctl stop prometheus') — or use another port: PROM_PORT=$((PORT + 1)) $0 start"
  fi
  check_config
  log "starting at $BASE_URL (config: $CONFIG, log: $LOG_FILE)"
  # setsid + nohup: detached from this shell, survives the caller's exit.
  setsid nohup prometheus \
    --config.file="$CONFIG" \
    --storage.tsdb.path="$DATA_DIR" \
    --storage.tsdb.retention.time="$RETENTION" \
    --web.listen-address="$HOST:$PORT" \
    --web.enable-lifecycle \
    >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid"
  log "ready (pid $pid)"
}

cmd_stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    alive "$pid" || { rm -f "$PID_FILE"; log "stopped"; return 0; }
    sleep 0.5
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
  log "killed (did not stop within 30 s)"
}

cmd_status() {
  local pid
  if pid="$(our_pid)"; then
    log "running (pid $pid) at $BASE_URL (config: $CONFIG, data: $DATA_DIR)"
    return 0
  fi
  log "stopped"
  return 3
}

cmd_reload() {
  need_bins
  our_pid >/dev/null || die "not running; run: $0 start"
  check_config
  http POST "$BASE_URL/-/reload" >/dev/null || die "reload failed; see $LOG_FILE"
  log "reloaded"
}

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    reload) cmd_reload ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
