#!/usr/bin/env bash
# Kafka bus throughput vs Kafka's own performance tools, same broker, same run.
#
#   bench/kafka/throughput.sh [COUNT] [SIZE]     (defaults: 300000 messages of 1024 bytes)
#
# Uses KAFKA_BOOTSTRAP when set, else starts a local broker with
# deploy/kafka-local/kafka.sh. Producer settings match on both sides:
# acks=all, idempotence on, linger.ms=5, no compression, 3 partitions.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
count="${1:-300000}"
size="${2:-1024}"
. bench/lib.sh

if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  kafka_dir="$(mktemp -d /tmp/wirewatch-bench-kafka.XXXXXX)"
  trap 'deploy/kafka-local/kafka.sh stop --dir "$kafka_dir"; rm -rf "$kafka_dir"' EXIT
  line="$(deploy/kafka-local/kafka.sh start --dir "$kafka_dir")"
  export KAFKA_BOOTSTRAP="${line#KAFKA_BOOTSTRAP=}"
fi
jars="$(deploy/kafka-local/kafka.sh jars)"
java_run() { java -Xmx1g -Dlog4j2.level=WARN -cp "$jars/*" "$@"; }

cargo build --release -q -p wirewatch-bus --example throughput
ours="$target_dir/release/examples/throughput"

stamp="$(date +%s)"
create() {
  java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
    --create --topic "$1" --partitions 3 --replication-factor 1 >/dev/null
}
create "bench-java-$stamp"
create "bench-ours-$stamp"

echo "== Kafka ProducerPerformance ($count x $size B)"
java_run org.apache.kafka.tools.ProducerPerformance --topic "bench-java-$stamp" \
  --num-records "$count" --record-size "$size" --throughput -1 \
  --producer-props bootstrap.servers="$KAFKA_BOOTSTRAP" acks=all enable.idempotence=true \
  linger.ms=5 compression.type=none batch.size=65536 2>/dev/null | tail -n 1

echo "== Kafka ConsumerPerformance"
java_run org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$KAFKA_BOOTSTRAP" \
  --topic "bench-java-$stamp" --messages "$count" --group "bench-java-$stamp" 2>/dev/null | tail -n 2

echo "== wirewatch bus (Bus::publish awaited per message, Bus::run_stage counting handler)"
"$ours" "$KAFKA_BOOTSTRAP" "bench-ours-$stamp" "$count" "$size" none
