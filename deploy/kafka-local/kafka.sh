#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on
# 127.0.0.1, for development, tests and CI. Jars come from Maven Central via
# pom.xml beside this script and are cached outside the repository.
#
#   kafka.sh jars                      resolve the jars into the cache, print the dir
#   kafka.sh start [--port P] [--dir D] [--secure]
#                                      start (free port by default), wait until it
#                                      answers, print KAFKA_BOOTSTRAP=127.0.0.1:P
#   kafka.sh stop [--dir D]            stop the broker started with that dir
#   kafka.sh kill [--dir D] [--signal TERM|KILL]
#                                      signal it and wait until it is gone (faults)
#   kafka.sh relaunch [--dir D]        start it again on its data and ports
#
# --secure adds two listeners on free loopback ports beside the plaintext one:
# SSL (TLS, server certificate only) and SASL_SSL (TLS, then SASL SCRAM-SHA-512,
# SCRAM-SHA-256 or PLAIN). A throwaway CA and a broker certificate for
# 127.0.0.1/localhost are made with the JDK's keytool in D/tls; the SASL user
# gets a random password, its SCRAM credentials written when the storage is
# formatted. start then prints, one NAME=value a line:
#   KAFKA_BOOTSTRAP, KAFKA_TLS_BOOTSTRAP, KAFKA_SASL_BOOTSTRAP,
#   KAFKA_CA_FILE (PEM, for ssl.ca.location), KAFKA_SASL_USERNAME,
#   KAFKA_SASL_PASSWORD
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
secure=0
signal=TERM
sasl_user="wirewatch"

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

all_open() {
  local each
  for each in "$@"; do port_open "$each" || return 1; done
}

random_secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# A CA and a broker certificate signed by it (SAN 127.0.0.1 and localhost, so
# clients that check the host name accept it), made with keytool into $1:
# ca.pem for clients, broker.p12 (key, certificate, CA) for the broker.
make_certificates() {
  local dir="$1" store_password="$2"
  command -v keytool >/dev/null || { log "keytool (from the JDK) is required for --secure"; exit 1; }
  mkdir -p "$dir"
  local common=(-storetype PKCS12 -storepass "$store_password" -keypass "$store_password")
  {
    keytool -genkeypair -alias ca -keyalg RSA -keysize 2048 -validity 30 \
            -dname "CN=wirewatch test CA" -ext bc:c -ext KU:c=keyCertSign,cRLSign \
            -keystore "$dir/ca.p12" "${common[@]}"
    keytool -exportcert -rfc -alias ca -keystore "$dir/ca.p12" "${common[@]}" -file "$dir/ca.pem"
    keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 30 \
            -dname "CN=localhost" -keystore "$dir/broker.p12" "${common[@]}"
    keytool -certreq -alias broker -keystore "$dir/broker.p12" "${common[@]}" -file "$dir/broker.csr"
    keytool -gencert -alias ca -keystore "$dir/ca.p12" "${common[@]}" -rfc -validity 30 \
            -ext SAN=ip:127.0.0.1,dns:localhost -ext KU=digitalSignature,keyEncipherment \
            -ext EKU=serverAuth -infile "$dir/broker.csr" -outfile "$dir/broker.pem"
    keytool -importcert -noprompt -alias ca -keystore "$dir/broker.p12" "${common[@]}" -file "$dir/ca.pem"
    keytool -importcert -noprompt -alias broker -keystore "$dir/broker.p12" "${common[@]}" -file "$dir/broker.pem"
  } >"$dir/keytool.log" 2>&1 || { log "making certificates failed:"; cat "$dir/keytool.log" >&2; exit 1; }
}

# How many times the broker's log says it started.
started_count() {
  local count
  count="$(grep -c "Kafka Server started" "$run_dir/kafka.log" 2>/dev/null || true)"
  echo "${count:-0}"
}

# Starts the JVM on $run_dir's properties and data and waits until every
# port in $2.. answers: the tail of start, and all of relaunch.
launch() {
  local jars="$1"
  shift
  local open_ports=("$@")
  local java_opts=(-Xms256m "-Xmx${KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true
                   "-Dlog4j2.configurationFile=$run_dir/log4j2.properties")
  local started_lines
  started_lines="$(started_count)"
  nohup java "${java_opts[@]}" -cp "$jars/*" kafka.Kafka "$run_dir/server.properties" \
       >"$run_dir/stdout.log" 2>&1 &
  echo $! > "$run_dir/kafka.pid"
  local waited=0
  until all_open "${open_ports[@]}" && [ "$(started_count)" -gt "$started_lines" ]; do
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
  log "broker up on 127.0.0.1:${open_ports[*]} (pid $(cat "$run_dir/kafka.pid"), logs in $run_dir)"
}

# The broker of $run_dir again, on its data and ports (after stop or kill):
# for fault tests that take a broker away and bring it back.
relaunch() {
  local jars
  jars="$(resolve_jars)"
  [ -f "$run_dir/server.properties" ] || { log "no broker was started from $run_dir"; exit 1; }
  if [ -f "$run_dir/kafka.pid" ] && kill -0 "$(cat "$run_dir/kafka.pid")" 2>/dev/null; then
    log "the broker of $run_dir is running (pid $(cat "$run_dir/kafka.pid"))"
    return 0
  fi
  local ports=()
  mapfile -t ports < "$run_dir/ports"
  launch "$jars" "${ports[@]}"
}

# Sends $signal (TERM or KILL) to the broker of $run_dir and waits until it
# is gone.
signal_broker() {
  [ -f "$run_dir/kafka.pid" ] || { log "no broker pid in $run_dir"; exit 1; }
  local pid
  pid="$(cat "$run_dir/kafka.pid")"
  kill "-$signal" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$run_dir/kafka.pid"
  log "broker sent SIG$signal and gone"
}

start() {
  local jars
  jars="$(resolve_jars)"
  if [ -f "$run_dir/kafka.pid" ] && kill -0 "$(cat "$run_dir/kafka.pid")" 2>/dev/null; then
    log "a broker is already running from $run_dir (pid $(cat "$run_dir/kafka.pid"))"
    cat "$run_dir/endpoints"
    return
  fi
  rm -rf "$run_dir"
  mkdir -p "$run_dir/data"
  [ -n "$port" ] || port="$(free_port)"
  local controller_port
  controller_port="$(free_port)"
  local listeners="PLAINTEXT://127.0.0.1:$port"
  local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  local open_ports=("$port")
  local scram_args=()
  echo "KAFKA_BOOTSTRAP=127.0.0.1:$port" > "$run_dir/endpoints"
  if [ "$secure" = 1 ]; then
    local tls_port sasl_port store_password sasl_password
    tls_port="$(free_port)"
    sasl_port="$(free_port)"
    store_password="$(random_secret)"
    sasl_password="$(random_secret)"
    make_certificates "$run_dir/tls" "$store_password"
    listeners="$listeners,SSL://127.0.0.1:$tls_port,SASL_SSL://127.0.0.1:$sasl_port"
    protocols="$protocols,SSL:SSL,SASL_SSL:SASL_SSL"
    open_ports+=("$tls_port" "$sasl_port")
    for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
      scram_args+=(--add-scram "$mechanism=[name=$sasl_user,password=$sasl_password]")
    done
    cat >> "$run_dir/endpoints" <<ENDPOINTS
KAFKA_TLS_BOOTSTRAP=127.0.0.1:$tls_port
KAFKA_SASL_BOOTSTRAP=127.0.0.1:$sasl_port
KAFKA_CA_FILE=$run_dir/tls/ca.pem
KAFKA_SASL_USERNAME=$sasl_user
KAFKA_SASL_PASSWORD=$sasl_password
ENDPOINTS
  fi
  cat > "$run_dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=$listeners,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
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
  if [ "$secure" = 1 ]; then
    # Clients need not present a certificate; SCRAM users live in the
    # cluster metadata (added at format time), the PLAIN user in its JAAS line.
    cat >> "$run_dir/server.properties" <<PROPS
ssl.keystore.type=PKCS12
ssl.keystore.location=$run_dir/tls/broker.p12
ssl.keystore.password=$store_password
ssl.key.password=$store_password
ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$sasl_user="$sasl_password";
PROPS
  fi
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
       -t "$cluster_id" -c "$run_dir/server.properties" ${scram_args[@]+"${scram_args[@]}"} \
       >"$run_dir/format.log" 2>&1 \
    || { log "formatting storage failed:"; cat "$run_dir/format.log" >&2; exit 1; }
  printf '%s\n' "${open_ports[@]}" > "$run_dir/ports"
  echo "127.0.0.1:$port" > "$run_dir/bootstrap"
  launch "$jars" "${open_ports[@]}"
  cat "$run_dir/endpoints"
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
    --secure) secure=1; shift ;;
    --signal) signal="$2"; shift 2 ;;
    *) log "unknown argument $1"; exit 2 ;;
  esac
done
case "$command" in
  jars) resolve_jars ;;
  start) start ;;
  stop) stop ;;
  relaunch) relaunch ;;
  kill) signal_broker ;;
  *) echo "usage: kafka.sh jars|start|stop|relaunch|kill [--port P] [--dir D] [--secure] [--signal TERM|KILL]" >&2; exit 2 ;;
esac
