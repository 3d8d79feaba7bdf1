# Shared by bench/chaos/run.sh and soak.sh (sourced, not run): a private
# broker, the feed server, a config, the daemon, /readyz sampling, the
# drain and the reconciliation.
#
# Callers set: feeds, period, stop_after, interval, transactional,
# instance_id, profile; then call chaos_setup, and chaos_finish at the end.
# chaos_setup sets: work, brokers, prefix, bin, metrics_port.

# build_wirewatch, free_port, now_ms
. bench/lib.sh
chaos_pids=()

chaos_cleanup() {
  for pid in "${chaos_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  deploy/kafka-local/kafka.sh stop --dir "$work/kafka" >/dev/null 2>&1 || true
}

chaos_setup() {
  build_wirewatch "$profile" --example reconcile
  reconcile="$target_dir/$profile/examples/reconcile"
  work="$(mktemp -d /tmp/wirewatch-chaos.XXXXXX)"
  trap chaos_cleanup EXIT
  brokers="$(deploy/kafka-local/kafka.sh start --dir "$work/kafka" 2>"$work/kafka.log" | sed -n 's/^KAFKA_BOOTSTRAP=//p')"
  local feed_port
  feed_port="$(free_port)"
  metrics_port="$(free_port)"
  python3 bench/chaos/feedserver.py --port "$feed_port" --feeds "$feeds" --period "$period" \
    --stop-after "$stop_after" --truth "$work/truth.jsonl" &
  chaos_pids+=($!)
  local feed
  for feed in $(seq 0 $((feeds - 1))); do
    printf '[[feed]]\nurl = "http://127.0.0.1:%s/feed/%s.xml"\n\n' "$feed_port" "$feed"
  done > "$work/feeds.toml"
  prefix="chaos$(date +%s)"
  cat > "$work/wirewatch.toml" <<TOML
feeds = ["feeds.toml"]
state_dir = "state"

[fetcher]
allow_private_addresses = ["127.0.0.1"]
min_host_delay = "0s"
max_item_age = "0s"
default_interval = "$interval"
min_interval = "1s"
max_interval = "$interval"
max_concurrent_requests = 64

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
  # For a second process (a stage of its own): the same without the
  # metrics listener, which only one process can bind.
  sed '/^\[metrics\]/,$d' "$work/wirewatch.toml" > "$work/second.toml"
  "$bin" topics create --config "$work/wirewatch.toml" >/dev/null
  # /readyz once a second: epoch ms and status.
  (
    while true; do
      echo "$(now_ms) $(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$metrics_port/readyz" || true)"
      sleep 1
    done
  ) > "$work/readyz.log" &
  chaos_pids+=($!)
}

# Starts a wirewatch process on $work/$2 (wirewatch.toml, or second.toml
# for a second process; extra arguments: --stages ...); its pid in
# $started, its stderr appended to $work/$1.log.
chaos_start() {
  local log="$1" config="$2"
  shift 2
  "$bin" run --config "$work/$config" "$@" 2>>"$work/$log.log" &
  started=$!
  chaos_pids+=("$started")
}

# Waits until the output stops growing for 10 s (at most 3 minutes).
chaos_drain() {
  local last=-1 stable=0 lines
  for _ in $(seq 1 180); do
    lines="$(wc -l < "$work/out.jsonl" 2>/dev/null || echo 0)"
    if [ "$lines" = "$last" ]; then stable=$((stable + 1)); else stable=0; last="$lines"; fi
    [ "$stable" -ge 10 ] && break
    sleep 1
  done
}

# Reconciles every topic and the output with the truth (extra arguments:
# --mark NAME=EPOCH_MS ...) and prints the summary; $1 and $2 bound the
# window whose /readyz answers are counted.
chaos_finish() {
  local from="$1" to="$2"
  shift 2
  "$reconcile" --brokers "$brokers" --truth "$work/truth.jsonl" \
    --topic "$prefix.items" --topic "$prefix.articles" --topic "$prefix.classified" \
    --topic "$prefix.flagged.sanctions" --jsonl "$work/out.jsonl" "$@" \
    > "$work/reconcile.jsonl"
  python3 - "$work" "$from" "$to" <<'PY'
import json, sys
work, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for line in open(f"{work}/reconcile.jsonl"):
    r = json.loads(line)
    name = r["source"].rsplit("/", 1)[-1]
    after = ", ".join(f"{k} +{v / 1000:.1f}s" if v is not None else f"{k} never"
                      for k, v in r["first_record_after_ms"].items())
    print(f"  {name:34} stories {r['stories']:>6}/{r['truth']:<6} missing {r['missing']:>4}  "
          f"repeated {r['repeated']:>4}  longest pause {(r['longest_pause_ms'] or 0) / 1000:5.1f}s"
          + (f"  first record after: {after}" if after else ""))
samples = [line.split() for line in open(f"{work}/readyz.log") if len(line.split()) == 2]
during = [code for at, code in samples if start <= int(at) <= end]
not_ready = [code for code in during if code != "200"]
print(f"  /readyz in the fault window: {len(not_ready)} of {len(during)} answers not 200")
PY
  echo "  work dir: $work"
}
