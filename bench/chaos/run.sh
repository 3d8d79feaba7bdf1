#!/usr/bin/env bash
# One fault against the whole Kafka pipeline, reconciled with ground truth.
#
#   bench/chaos/run.sh FAULT [OUTAGE_SECONDS]
#
# FAULT is one of
#   none            no fault (the baseline)
#   broker-term     the broker is stopped (SIGTERM) and started again at once
#   broker-kill     the broker is killed (SIGKILL) and started again at once
#   broker-outage   the broker is stopped for OUTAGE_SECONDS (default 30), then started
#   daemon-kill     the daemon is killed (SIGKILL) and restarted, 5 times, 8 s apart
#   clean-kill      the clean stage runs in a second process; it is killed and restarted
#
# A private broker (deploy/kafka-local/kafka.sh), bench/chaos/feedserver.py
# (FEEDS feeds, one new story per feed every PERIOD seconds, a truth log),
# and wirewatch with every stage (Kafka bus, local JSON lines output,
# /readyz polled every second). Stories are added for WARM s before the
# fault and AFTER s after it; then the pipeline drains, is stopped, and
# examples/reconcile.rs reads every topic and the output: missing and
# repeated stories per source, and how long after each mark (broker back,
# process restarted) the first record came.
#
# Environment: FEEDS (20), PERIOD (4), WARM (20), AFTER (30), PROFILE
# (release or debug), TRANSACTIONAL (false), INSTANCE_ID (empty: no static
# membership). Prints a summary; the work directory (logs, truth,
# reconcile.jsonl) is kept and named at the end.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fault="${1:?usage: bench/chaos/run.sh none|broker-term|broker-kill|broker-outage|daemon-kill|clean-kill [OUTAGE_SECONDS]}"
outage="${2:-30}"
feeds="${FEEDS:-20}"
period="${PERIOD:-4}"
warm="${WARM:-20}"
after="${AFTER:-30}"
profile="${PROFILE:-release}"
transactional="${TRANSACTIONAL:-false}"
instance_id="${INSTANCE_ID:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wirewatch/target}"

case "$fault" in
  none|broker-term|broker-kill|broker-outage|daemon-kill|clean-kill) ;;
  *) echo "run.sh: unknown fault $fault" >&2; exit 2 ;;
esac

cd "$repo"
if [ "$profile" = release ]; then
  cargo build --quiet --release --bin wirewatch --example reconcile
else
  cargo build --quiet --bin wirewatch --example reconcile
fi
bin="$CARGO_TARGET_DIR/$profile/wirewatch"
reconcile="$CARGO_TARGET_DIR/$profile/examples/reconcile"

work="$(mktemp -d /tmp/wirewatch-chaos.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  deploy/kafka-local/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

brokers="$(deploy/kafka-local/kafka.sh start --dir "$work/kafka" 2>"$work/kafka-start.log" | sed -n 's/^KAFKA_BOOTSTRAP=//p')"
feed_port="$(free_port)"
metrics_port="$(free_port)"
fault_span="$outage"
case "$fault" in
  daemon-kill) fault_span=40 ;;
  broker-outage) ;;
  *) fault_span=20 ;;
esac
stop_after=$((warm + fault_span + after))
python3 bench/chaos/feedserver.py --port "$feed_port" --feeds "$feeds" --period "$period" \
  --stop-after "$stop_after" --truth "$work/truth.jsonl" &
pids+=($!)

{
  for feed in $(seq 0 $((feeds - 1))); do
    printf '[[feed]]\nurl = "http://127.0.0.1:%s/feed/%s.xml"\n\n' "$feed_port" "$feed"
  done
} > "$work/feeds.toml"
prefix="chaos$(date +%s)"
cat > "$work/wirewatch.toml" <<TOML
feeds = ["feeds.toml"]
state_dir = "state"

[fetcher]
allow_private_addresses = ["127.0.0.1"]
min_host_delay = "0s"
max_item_age = "0s"
default_interval = "1s"
min_interval = "1s"
max_interval = "1s"

[bus]
kind = "kafka"

[bus.kafka]
brokers = "$brokers"
group_prefix = "$prefix"
partitions = 6
transactional = $transactional
$( [ -n "$instance_id" ] && echo "instance_id = \"$instance_id\"" )

[topics]
items = "$prefix.items"
articles = "$prefix.articles"
classified = "$prefix.classified"
dead_letter = "$prefix.dlq"
[topics.flagged]
ARMS_TRANSFER = "$prefix.flagged.arms-transfer"
SANCTIONS = "$prefix.flagged.sanctions"

[output]
stdout = false
jsonl = "out.jsonl"
include = "all"

[metrics]
listen = "127.0.0.1:$metrics_port"
TOML
"$bin" topics create --config "$work/wirewatch.toml" >/dev/null

main_stages=""
[ "$fault" = clean-kill ] && main_stages="--stages fetch,classify"
start_daemon() {
  # shellcheck disable=SC2086
  "$bin" run --config "$work/wirewatch.toml" $main_stages 2>>"$work/daemon.log" &
  daemon=$!
  pids+=("$daemon")
}
start_cleaner() {
  "$bin" run --config "$work/wirewatch.toml" --stages clean 2>>"$work/cleaner.log" &
  cleaner=$!
  pids+=("$cleaner")
}
start_daemon
[ "$fault" = clean-kill ] && start_cleaner

# /readyz once a second: epoch ms and status.
(
  while true; do
    code="$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$metrics_port/readyz" || true)"
    echo "$(now_ms) $code"
    sleep 1
  done
) > "$work/readyz.log" &
pids+=($!)

sleep "$warm"
marks=()
fault_start="$(now_ms)"
case "$fault" in
  none) sleep "$fault_span" ;;
  broker-term|broker-kill|broker-outage)
    signal=TERM
    [ "$fault" = broker-kill ] && signal=KILL
    deploy/kafka-local/kafka.sh kill --signal "$signal" --dir "$work/kafka" 2>>"$work/kafka-start.log"
    [ "$fault" = broker-outage ] && sleep "$outage"
    deploy/kafka-local/kafka.sh relaunch --dir "$work/kafka" 2>>"$work/kafka-start.log"
    marks+=(--mark "broker_back=$(now_ms)")
    sleep "$fault_span"
    ;;
  daemon-kill)
    for round in 1 2 3 4 5; do
      kill -9 "$daemon"
      wait "$daemon" 2>/dev/null || true
      start_daemon
      marks+=(--mark "restart_$round=$(now_ms)")
      sleep 8
    done
    ;;
  clean-kill)
    kill -9 "$cleaner"
    wait "$cleaner" 2>/dev/null || true
    start_cleaner
    marks+=(--mark "cleaner_restart=$(now_ms)")
    sleep "$fault_span"
    ;;
esac
fault_end="$(now_ms)"
sleep "$after"

# Drain: until the output stops growing for 10 s (at most 3 minutes).
last=-1
stable=0
for _ in $(seq 1 180); do
  lines="$(wc -l < "$work/out.jsonl" 2>/dev/null || echo 0)"
  if [ "$lines" = "$last" ]; then stable=$((stable + 1)); else stable=0; last="$lines"; fi
  [ "$stable" -ge 10 ] && break
  sleep 1
done
kill -TERM "$daemon" 2>/dev/null || true
wait "$daemon" 2>/dev/null || true
if [ "$fault" = clean-kill ]; then
  kill -TERM "$cleaner" 2>/dev/null || true
  wait "$cleaner" 2>/dev/null || true
fi

"$reconcile" --brokers "$brokers" --truth "$work/truth.jsonl" \
  --topic "$prefix.items" --topic "$prefix.articles" --topic "$prefix.classified" \
  --topic "$prefix.flagged.sanctions" --jsonl "$work/out.jsonl" "${marks[@]}" \
  > "$work/reconcile.jsonl"

python3 - "$work" "$fault" "$fault_start" "$fault_end" <<'PY'
import json, sys
work, fault, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(f"fault: {fault}  (work dir {work})")
for line in open(f"{work}/reconcile.jsonl"):
    r = json.loads(line)
    name = r["source"].rsplit("/", 1)[-1]
    after = ", ".join(f"{k} +{v / 1000:.1f}s" if v is not None else f"{k} never"
                      for k, v in r["first_record_after_ms"].items())
    print(f"  {name:32} stories {r['stories']:>6}/{r['truth']:<6} missing {r['missing']:>4}  "
          f"repeated {r['repeated']:>4}  longest pause {(r['longest_pause_ms'] or 0) / 1000:5.1f}s"
          + (f"  first record after: {after}" if after else ""))
samples = [line.split() for line in open(f"{work}/readyz.log")]
during = [code for at, code in samples if start <= int(at) <= end + 15000]
not_ready = [code for code in during if code != "200"]
print(f"  /readyz from the fault to 15 s after it: {len(not_ready)} of {len(during)} answers not 200")
PY
