#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) broker from Maven Central jars, no Docker.
#
#   kafka.sh fetch    copy the broker jars into deploy/local/kafka/lib (no-op when complete)
#   kafka.sh format   format the data dir (only if not yet formatted)
#   kafka.sh start    fetch + format if needed, start in background, wait until ready (idempotent)
#   kafka.sh stop     SIGTERM, wait up to KAFKA_STOP_TIMEOUT (20 s), then SIGKILL
#   kafka.sh wipe     stop, then delete all state (data, logs, rendered config)
#   kafka.sh status   exit 0 if running and answering, 1 if alive but not answering, 3 if stopped
#   kafka.sh kill9    SIGKILL the broker (chaos tests); data kept, next start recovers
#   kafka.sh logs [N] print the last N (50) lines of the broker's console log
#
# Environment:
#   ONESTOP_RUN_DIR        state root (default <repo>/.run); state goes in $ONESTOP_RUN_DIR/kafka
#   KAFKA_PORT             PLAINTEXT listener (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default 9093)
#   KAFKA_SASL_PORT        optional SASL_PLAINTEXT listener (SCRAM-SHA-512, ACLs on); unset = none
#   KAFKA_HEAP_OPTS        default "-Xms256m -Xmx512m"
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
#   KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM (default 20)
#   JAVA_HOME              optional; otherwise `java` from PATH (17+ required)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd "$HERE/../../.." && pwd -P)"
RUN_ROOT="${ONESTOP_RUN_DIR:-$REPO/.run}"
STATE="$RUN_ROOT/kafka"
DATA="$STATE/data"
LOGS="$STATE/logs"
PIDFILE="$STATE/kafka.pid"
CONF="$STATE/server.properties"
OUT="$LOGS/kafka.out"
LIB="$HERE/lib"
STAMP="$LIB/.fetch-complete"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-}"
# The SASL principals: admin (super user), one per service, operator (the `onestop dlq` tools). Development
# passwords (sasl_password), known to tests/e2e/test_kafka_sasl.py: this listener is on localhost, for trying
# the ACLs, not for protecting data.
SASL_USERS=(admin intake processing notifications reporting operator)
SASL_STAMP="$DATA/.onestop-scram-users"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"
READY_RE='Kafka Server started|started \(kafka\.server'

WANT_JARS=('kafka_2.13-' 'kafka-server-[0-9]' 'log4j-core-' 'log4j-slf4j-impl-' 'slf4j-api-1\.')  # what a complete fetch must hold
STOP_TIMEOUT="$KAFKA_STOP_TIMEOUT" STATE_NAME=kafka NAME=kafka.sh PRODUCT="Kafka 4.x" MAIN_RE='kafka\.Kafka'
# shellcheck source=../lib/jvm.sh
source "$HERE/../lib/jvm.sh"

is_ready() {  # broker accepts TCP on KAFKA_PORT and logged its start marker in this run's log
  port_open "$KAFKA_PORT" && [[ -f "$OUT" ]] && grep -Eq "$READY_RE" "$OUT"
}

jvm_opts() {
  # shellcheck disable=SC2206
  JVM_OPTS=($KAFKA_HEAP_OPTS
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    "-Dkafka.logs.dir=$LOGS"
    "-Dlog4j2.configurationFile=$HERE/log4j2.properties")
}

render_config() {
  mkdir -p "$DATA" "$LOGS"
  local listener="" protocol=""
  if [[ -n "$KAFKA_SASL_PORT" ]]; then
    listener=",SASL://localhost:$KAFKA_SASL_PORT"
    protocol=",SASL:SASL_PLAINTEXT"
  fi
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@LOG_DIRS@|$DATA|g" \
      -e "s|@SASL_LISTENER@|$listener|g" \
      -e "s|@SASL_PROTOCOL@|$protocol|g" \
      "$HERE/server.properties" >"$CONF.tmp"
  [[ -n "$KAFKA_SASL_PORT" ]] && cat "$HERE/sasl.properties" >>"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
}

sasl_password() { printf 'onestop-%s-dev' "$1"; }

setup_sasl() {
  # SCRAM credentials live in the cluster metadata, so they are set once per data dir (the stamp is in it and
  # goes with `wipe`): at format time, or here for a data dir formatted before SASL was turned on (ConfigCommand
  # over the PLAINTEXT listener, whose User:ANONYMOUS is a super user; ~5 s per user, once).
  local user missing=()
  for user in "${SASL_USERS[@]}"; do
    grep -qx "$user" "$SASL_STAMP" 2>/dev/null || missing+=("$user")
  done
  for user in "${missing[@]}"; do
    "$JAVA" -Xmx128m -cp "$LIB/*" "-Dkafka.logs.dir=$LOGS" "-Dlog4j2.configurationFile=$HERE/log4j2.properties" \
        kafka.admin.ConfigCommand \
        --bootstrap-server "localhost:$KAFKA_PORT" --alter --entity-type users --entity-name "$user" \
        --add-config "SCRAM-SHA-512=[iterations=4096,password=$(sasl_password "$user")]" >/dev/null \
      || die "could not create the SCRAM user $user"
    echo "$user" >>"$SASL_STAMP"
  done
  # ACLs: each service may write only the topics it owns, read what it consumes, use its consumer groups.
  # Derived from the services' wiring (onestop/kafka_access.py), so they are applied at every start.
  local py="$REPO/.venv/bin/python"
  if [[ -x "$py" ]]; then
    (cd "$REPO" && ONESTOP_ENVIRONMENT=development ONESTOP_KAFKA_SECURITY_PROTOCOL=PLAINTEXT \
        "$py" -m onestop.kafka_access --bootstrap "localhost:$KAFKA_PORT" >&2) \
      || die "could not apply the services' ACLs (python -m onestop.kafka_access)"
  else
    log "WARNING: $py missing (make bootstrap): the service principals have no ACLs yet"
  fi
  log "SASL_PLAINTEXT (SCRAM-SHA-512) on localhost:$KAFKA_SASL_PORT for ${SASL_USERS[*]}"
}


cmd_format() {
  cmd_fetch
  need_java
  render_config
  if [[ -f "$DATA/meta.properties" ]]; then
    return 0
  fi
  jvm_opts
  local cid
  cid="$("$JAVA" "${JVM_OPTS[@]}" -cp "$LIB/*" kafka.tools.StorageTool random-uuid | tail -n1)"
  [[ -n "$cid" ]] || die "StorageTool random-uuid printed nothing."
  log "formatting $DATA (cluster id $cid)"
  # With SASL, the principals' SCRAM credentials go into the first metadata records: no tool run at start.
  local scram=() user
  if [[ -n "$KAFKA_SASL_PORT" ]]; then
    for user in "${SASL_USERS[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,iterations=4096,password=$(sasl_password "$user")]")
    done
  fi
  # Static voters (controller.quorum.voters) => no --standalone.
  "$JAVA" "${JVM_OPTS[@]}" -cp "$LIB/*" kafka.tools.StorageTool format \
      --cluster-id "$cid" --config "$CONF" --ignore-formatted "${scram[@]}" >&2 \
    || die "StorageTool format failed."
  [[ -n "$KAFKA_SASL_PORT" ]] && printf '%s\n' "${SASL_USERS[@]}" >"$SASL_STAMP"
  return 0
}

# ---------------------------------------------------------------------------- commands
cmd_start() {
  local pid
  if pid="$(server_pid)"; then
    if is_ready; then
      log "already running (pid $pid) on localhost:$KAFKA_PORT"
      if [[ -n "$KAFKA_SASL_PORT" ]] && ! port_open "$KAFKA_SASL_PORT"; then
        log "WARNING: it has no SASL listener on $KAFKA_SASL_PORT (started without KAFKA_SASL_PORT): restart it"
      fi
      return 0
    fi
    log "pid $pid is alive but not ready yet; waiting"
  else
    rm -f "$PIDFILE"
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" $KAFKA_SASL_PORT; do
      port_open "$p" && die "port $p is already in use by another process (not a broker started by this script). Free it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_SASL_PORT."
    done
    cmd_format
    jvm_opts
    [[ -f "$OUT" ]] && mv -f "$OUT" "$OUT.prev"
    local t0=$SECONDS
    # setsid: detach from the caller's session so the broker outlives it. The inner shell writes
    # its own pid and then execs java, so the pid file names the JVM even if setsid forks.
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDFILE" \
      "$JAVA" "${JVM_OPTS[@]}" -cp "$LIB/*" kafka.Kafka "$CONF" \
      </dev/null >>"$OUT" 2>&1 &
    disown || true
    for _ in $(seq 50); do [[ -s "$PIDFILE" ]] && break; sleep 0.1; done
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [[ -n "$pid" ]] || die "broker did not write its pid file $PIDFILE"
    log "started pid $pid, waiting up to ${KAFKA_START_TIMEOUT}s for localhost:$KAFKA_PORT"
  fi
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if is_ready; then
      log "ready on localhost:$KAFKA_PORT (pid $pid, ${t0:+$((SECONDS - t0)) s, }state $STATE)"
      if [[ -n "$KAFKA_SASL_PORT" ]]; then
        need_java
        setup_sasl
      fi
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker process $pid exited during startup. Last log lines ($OUT):"
      tail_log 60
      rm -f "$PIDFILE"
      exit 1
    fi
    sleep 0.5
  done
  log "broker not ready after ${KAFKA_START_TIMEOUT}s (pid $pid still running). Last log lines ($OUT):"
  tail_log 60
  exit 1
}

cmd_status() {
  local pid
  if pid="$(server_pid)"; then
    if is_ready; then
      echo "running pid=$pid bootstrap=localhost:$KAFKA_PORT state=$STATE"
      return 0
    fi
    echo "starting-or-unhealthy pid=$pid (localhost:$KAFKA_PORT not answering or not started yet)"
    return 1
  fi
  echo "stopped state=$STATE"
  return 3
}

usage() {
  sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    fetch) cmd_fetch ;;
    format) cmd_format ;;
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
