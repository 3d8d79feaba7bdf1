#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on
# 127.0.0.1, for development, tests and CI. Jars come from Maven Central via
# pom.xml beside this script and are cached outside the repository.
#
#   kafka.sh jars                      resolve the jars into the cache, print the dir
#   kafka.sh start [--port P] [--dir D] start (free port by default), wait until it
#                                      answers, print KAFKA_BOOTSTRAP=127.0.0.1:P
#   kafka.sh stop [--dir D]            stop the broker started with that dir
#
# Environment: WIREWATCH_KAFKA_CACHE (jar cache, default
# /var/cache/wirewatch/kafka-jars), WIREWATCH_KAFKA_DIR (default dir),
# KAFKA_HEAP (default 512m).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${WIREWATCH_KAFKA_CACHE:-/var/cache/wirewatch/kafka-jars}"
pom_hash="$(sha256sum "$here/pom.xml" | cut -c1-12)"
jar_dir="$cache_root/$pom_hash"
run_dir="${WIREWATCH_KAFKA_DIR:-/tmp/wirewatch-kafka}"
port=""

log() { echo "kafka.sh: $*" >&2; }

resolve_jars() {
  if [ -f "$jar_dir/.complete" ]; then
    echo "$jar_dir"
    return
  fi
  command -v mvn >/dev/null || { log "maven (mvn) is required to fetch the Kafka jars"; exit 1; }
  command -v java >/dev/null || { log "java 17+ is required to run Kafka"; exit 1; }
  log "resolving Kafka jars into $jar_dir"
  mkdir -p "$jar_dir"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$jar_dir" -DincludeScope=runtime >&2
  touch "$jar_dir/.complete"
  echo "$jar_dir"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local jars
  jars="$(resolve_jars)"
  if [ -f "$run_dir/kafka.pid" ] && kill -0 "$(cat "$run_dir/kafka.pid")" 2>/dev/null; then
    log "a broker is already running from $run_dir (pid $(cat "$run_dir/kafka.pid"))"
    echo "KAFKA_BOOTSTRAP=$(cat "$run_dir/bootstrap")"
    return
  fi
  rm -rf "$run_dir"
  mkdir -p "$run_dir/data"
  [ -n "$port" ] || port="$(free_port)"
  local controller_port
  controller_port="$(free_port)"
  cat > "$run_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$run_dir/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
PROPS
  cat > "$run_dir/log4j2.properties" <<PROPS
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $run_dir/kafka.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
PROPS
  local java_opts=(-Xms256m "-Xmx${KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true
                   "-Dlog4j2.configurationFile=$run_dir/log4j2.properties")
  local cluster_id
  cluster_id="$(java "${java_opts[@]}" -cp "$jars/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  java "${java_opts[@]}" -cp "$jars/*" kafka.tools.StorageTool format \
       -t "$cluster_id" -c "$run_dir/server.properties" >"$run_dir/format.log" 2>&1 \
    || { log "formatting storage failed:"; cat "$run_dir/format.log" >&2; exit 1; }
  nohup java "${java_opts[@]}" -cp "$jars/*" kafka.Kafka "$run_dir/server.properties" \
       >"$run_dir/stdout.log" 2>&1 &
  echo $! > "$run_dir/kafka.pid"
  echo "127.0.0.1:$port" > "$run_dir/bootstrap"
  local waited=0
  until port_open "$port" && grep -q "Kafka Server started" "$run_dir/kafka.log" 2>/dev/null; do
    if ! kill -0 "$(cat "$run_dir/kafka.pid")" 2>/dev/null; then
      log "broker exited during start; last lines:"
      tail -n 30 "$run_dir/stdout.log" "$run_dir/kafka.log" >&2 2>/dev/null || true
      exit 1
    fi
    if [ "$waited" -ge 120 ]; then
      log "broker did not answer within 60 s"
      stop
      exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  log "broker up on 127.0.0.1:$port (pid $(cat "$run_dir/kafka.pid"), logs in $run_dir)"
  echo "KAFKA_BOOTSTRAP=127.0.0.1:$port"
}

stop() {
  [ -f "$run_dir/kafka.pid" ] || { log "no broker pid in $run_dir"; return 0; }
  local pid
  pid="$(cat "$run_dir/kafka.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$run_dir/kafka.pid"
  log "broker stopped"
}

command="${1:-}"
shift || true
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --dir) run_dir="$2"; shift 2 ;;
    *) log "unknown argument $1"; exit 2 ;;
  esac
done
case "$command" in
  jars) resolve_jars ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: kafka.sh jars|start|stop [--port P] [--dir D]" >&2; exit 2 ;;
esac
