#!/usr/bin/env bash
# Local S3Proxy (an S3-compatible server, filesystem blob store) from Maven Central jars, no Docker.
#
#   s3proxy.sh fetch    copy the S3Proxy jars into deploy/local/s3proxy/lib (no-op when complete)
#   s3proxy.sh start    fetch if needed, create the buckets' directories, start in background, wait until
#                       ready (idempotent)
#   s3proxy.sh stop     SIGTERM, wait up to S3PROXY_STOP_TIMEOUT (20 s), then SIGKILL
#   s3proxy.sh restart  stop, then start
#   s3proxy.sh wipe     stop, then delete all state (objects, logs, rendered config)
#   s3proxy.sh status   exit 0 if running and answering, 1 if alive but not answering, 3 if stopped
#   s3proxy.sh kill9    SIGKILL the server (chaos tests); objects kept
#   s3proxy.sh logs [N] print the last N (50) lines of the server's console log
#
# Environment:
#   ONESTOP_RUN_DIR        state root (default <repo>/.run); state goes in $ONESTOP_RUN_DIR/s3proxy
#   S3PROXY_PORT           HTTP port on 127.0.0.1 (default 9000; `make test` uses 19000)
#   S3PROXY_BUCKETS        buckets created (as directories) at start (default "onestop-documents")
#   S3PROXY_IDENTITY       access key id (default onestop-dev)       development only: fixed and public
#   S3PROXY_CREDENTIAL     secret access key (default onestop-dev-secret)
#   S3PROXY_HEAP_OPTS      default "-Xms64m -Xmx256m"
#   S3PROXY_START_TIMEOUT  seconds to wait for readiness (default 60)
#   S3PROXY_STOP_TIMEOUT   seconds to wait after SIGTERM (default 20)
#   JAVA_HOME              optional; otherwise `java` from PATH (17+ required)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../../.." && pwd -P)"
RUN_ROOT="${ONESTOP_RUN_DIR:-$REPO/.run}"
STATE="$RUN_ROOT/s3proxy"
DATA="$STATE/data"
LOGS="$STATE/logs"
PIDFILE="$STATE/s3proxy.pid"
CONF="$STATE/s3proxy.conf"
OUT="$LOGS/s3proxy.out"
LIB="$HERE/lib"
STAMP="$LIB/.fetch-complete"

S3PROXY_PORT="${S3PROXY_PORT:-9000}"
S3PROXY_BUCKETS="${S3PROXY_BUCKETS:-onestop-documents}"
S3PROXY_IDENTITY="${S3PROXY_IDENTITY:-onestop-dev}"
S3PROXY_CREDENTIAL="${S3PROXY_CREDENTIAL:-onestop-dev-secret}"
S3PROXY_HEAP_OPTS="${S3PROXY_HEAP_OPTS:--Xms64m -Xmx256m}"
S3PROXY_START_TIMEOUT="${S3PROXY_START_TIMEOUT:-60}"
S3PROXY_STOP_TIMEOUT="${S3PROXY_STOP_TIMEOUT:-20}"
READY_RE='Server -- Started|jetty\.server\.Server - Started'

WANT_JARS=('s3proxy-[0-9]' 'logback-classic-' 'slf4j-api-2\.' 'jackson-annotations-2\.2')  # what a complete fetch must hold
STOP_TIMEOUT="$S3PROXY_STOP_TIMEOUT" STATE_NAME=s3proxy NAME=s3proxy.sh PRODUCT="S3Proxy 4.x" MAIN_RE='org\.gaul\.s3proxy\.Main'
# shellcheck source=../lib/jvm.sh
source "$HERE/../lib/jvm.sh"

is_ready() {  # server accepts TCP on S3PROXY_PORT and logged Jetty's start line in this run's log
  port_open "$S3PROXY_PORT" && [[ -f "$OUT" ]] && grep -Eq "$READY_RE" "$OUT"
}

render_config() {
  mkdir -p "$DATA" "$LOGS"
  # Secrets never reach the command line (ps shows it): they go in the rendered file, readable by us only.
  (umask 077
   sed -e "s|@S3PROXY_PORT@|$S3PROXY_PORT|g" \
       -e "s|@BASEDIR@|$DATA|g" \
       -e "s|@IDENTITY@|$S3PROXY_IDENTITY|g" \
       -e "s|@CREDENTIAL@|$S3PROXY_CREDENTIAL|g" \
       "$HERE/s3proxy.conf" >"$CONF.tmp")
  mv "$CONF.tmp" "$CONF"
  # The filesystem blob store's bucket is a directory under basedir: creating it here means `make up`
  # needs no S3 client to make its bucket.
  local bucket
  for bucket in $S3PROXY_BUCKETS; do
    [[ "$bucket" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || die "bad bucket name '$bucket' in S3PROXY_BUCKETS"
    mkdir -p "$DATA/$bucket"
  done
}


# ---------------------------------------------------------------------------- commands
cmd_start() {
  local pid t0=""
  if pid="$(server_pid)"; then
    if is_ready; then
      log "already running (pid $pid) on http://127.0.0.1:$S3PROXY_PORT"
      return 0
    fi
    log "pid $pid is alive but not ready yet; waiting"
  else
    rm -f "$PIDFILE"
    port_open "$S3PROXY_PORT" && die "port $S3PROXY_PORT is already in use by another process (not an S3Proxy started by this script). Free it or set S3PROXY_PORT."
    cmd_fetch
    need_java
    render_config
    [[ -f "$OUT" ]] && mv -f "$OUT" "$OUT.prev"
    t0=$SECONDS
    # shellcheck disable=SC2206
    local jvm=($S3PROXY_HEAP_OPTS -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
               "-Dlogback.configurationFile=$HERE/logback.xml")
    # setsid: detach from the caller's session so the server outlives it. The inner shell writes its own
    # pid and then execs java, so the pid file names the JVM.
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDFILE" \
      "$JAVA" "${jvm[@]}" -cp "$LIB/*" org.gaul.s3proxy.Main --properties "$CONF" \
      </dev/null >>"$OUT" 2>&1 &
    disown || true
    for _ in $(seq 50); do [[ -s "$PIDFILE" ]] && break; sleep 0.1; done
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] || die "server did not write its pid file $PIDFILE"
    log "started pid $pid, waiting up to ${S3PROXY_START_TIMEOUT}s for http://127.0.0.1:$S3PROXY_PORT"
  fi
  local deadline=$((SECONDS + S3PROXY_START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if is_ready; then
      log "ready on http://127.0.0.1:$S3PROXY_PORT (pid $pid, ${t0:+$((SECONDS - t0)) s, }state $STATE)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "server process $pid exited during startup. Last log lines ($OUT):"
      tail_log 60
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.3
  done
  log "server not ready after ${S3PROXY_START_TIMEOUT}s (pid $pid still running). Last log lines ($OUT):"
  tail_log 60
  exit 1
}

cmd_status() {
  local pid
  if pid="$(server_pid)"; then
    if is_ready; then
      echo "running pid=$pid endpoint=http://127.0.0.1:$S3PROXY_PORT state=$STATE"
      return 0
    fi
    echo "starting-or-unhealthy pid=$pid (http://127.0.0.1:$S3PROXY_PORT not answering or not started yet)"
    return 1
  fi
  echo "stopped state=$STATE"
  return 3
}

usage() {
  sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    wipe) cmd_wipe ;;
    status) cmd_status ;;
    kill9) cmd_kill9 ;;
    logs) tail -n "${1:-50}" "$OUT" ;;
    -h|--help|help|"") usage ;;
    *) log "unknown command '$cmd'"; usage ;;
  esac
}

main "$@"
