# Helpers shared by the scripts that run a JVM server from Maven Central jars (kafka/kafka.sh,
# s3proxy/s3proxy.sh). The sourcing script sets, before sourcing:
#   NAME       its name in messages (kafka.sh)          PRODUCT  what it runs (Kafka 4.x)
#   HERE       its folder (pom.xml is there)            LIB      where the jars go
#   STAMP      the fetch stamp (pom hash + jar names)   PIDFILE  the server's pid file
#   MAIN_RE    a regex of the server's main class, to tell our JVM from a reused pid
#   STATE      its state dir, whose last part is STATE_NAME (wipe deletes nothing else)
#   STOP_TIMEOUT  seconds between SIGTERM and SIGKILL on stop
#   OUT        its console log                         WANT_JARS  jar name patterns a complete fetch holds
# shellcheck shell=bash

log() { printf '%s: %s\n' "$NAME" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }

JAVA=""
need_java() {
  [[ -n "$JAVA" ]] && return 0
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA="$(command -v java)"
  else
    die "java not found. Install a JDK 17 or newer (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME."
  fi
  local ver major
  ver="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
  major="${ver%%.*}"
  [[ "$major" == 1 ]] && major="$(echo "$ver" | cut -d. -f2)"   # 1.8.0_x style
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot read the Java version from '$JAVA -version' (got '$ver')."
  (( major >= 17 )) || die "$PRODUCT needs Java 17 or newer; '$JAVA' is Java $ver. Install JDK 17+ or set JAVA_HOME."
}

need_mvn() {
  command -v mvn >/dev/null 2>&1 \
    || die "mvn (Apache Maven) not found; it is needed once to fetch the $PRODUCT jars into $LIB (Debian: apt-get install maven)."
}

pom_hash() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }

lib_complete() {
  # Complete = stamp written by the last successful fetch of this very pom.xml, and every jar it
  # listed still present.
  [[ -f "$STAMP" ]] || return 1
  [[ "$(head -n1 "$STAMP")" == "$(pom_hash)" ]] || return 1
  local jar n=0
  while IFS= read -r jar; do
    [[ -f "$LIB/$jar" ]] || return 1
    n=$((n + 1))
  done < <(tail -n +2 "$STAMP")
  (( n > 0 ))
}

port_open() {  # port_open PORT -> 0 if something accepts TCP on localhost:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

server_pid() {  # prints the pid if the pid file names a live JVM of ours; else returns 1
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must be our server.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$MAIN_RE" || return 1
  echo "$pid"
}

cmd_stop() {
  local pid
  if ! pid="$(server_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid (SIGTERM, up to ${STOP_TIMEOUT}s)"
  local t0=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${STOP_TIMEOUT}s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  log "stopped in $((SECONDS - t0)) s"
}

cmd_kill9() {
  local pid
  if ! pid="$(server_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$PIDFILE"
  log "killed pid $pid with SIGKILL"
}

cmd_wipe() {
  cmd_stop
  case "$STATE" in
    */"$STATE_NAME") ;;
    *) die "refusing to delete unexpected state dir '$STATE'" ;;
  esac
  rm -rf "$STATE"
  log "wiped $STATE"
}

tail_log() { [[ -f "$OUT" ]] && tail -n "${1:-50}" "$OUT" >&2 || true; }

# ---------------------------------------------------------------------------- commands
cmd_fetch() {
  if lib_complete; then
    return 0
  fi
  need_java
  need_mvn
  log "fetching ${PRODUCT% *} jars from Maven Central into $LIB (first time can take a minute)..."
  # A changed pom.xml (version bump) must not leave old jars next to the new ones.
  rm -rf "$LIB"
  mkdir -p "$LIB"
  local t0=$SECONDS
  if ! mvn -B -q -Dstyle.color=never -f "$HERE/pom.xml" \
        org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies; then
    die "mvn copy-dependencies failed (is Maven Central reachable?). lib/ left incomplete."
  fi
  local jars
  jars="$(cd "$LIB" && ls -1 -- *.jar 2>/dev/null || true)"
  [[ -n "$jars" ]] || die "mvn succeeded but $LIB holds no jars."
  for want in "${WANT_JARS[@]}"; do
    grep -q "^$want" <<<"$jars" || die "expected a jar matching '$want' in $LIB, not found."
  done
  { pom_hash; echo "$jars"; } >"$STAMP"
  log "fetched $(wc -l <<<"$jars") jars ($(du -sh "$LIB" | cut -f1)) in $((SECONDS - t0)) s."
}
