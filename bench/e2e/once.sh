#!/usr/bin/env bash
# Throughput of a whole pass: `wirewatch run --once` on the memory bus over
# every page of AEB and trafilatura's set (1,171 pages), served from
# 127.0.0.1 by one feed per set, each page fetched, cleaned, classified
# and written. Prints articles, wall seconds, CPU seconds and articles per
# CPU-second, and the fsync count (strace, when installed).
#
#   bench/e2e/once.sh [BIN [BASELINE]]   (BIN default: this tree's release build)
#
# With BASELINE (another build, e.g. of an older commit), the two are run
# alternately, RUNS times each, and the medians and their ratio printed:
# the machine's load then hits both alike.
#
# Environment: DATA (/tmp/extract-data, made by bench/extract/eval.sh from
# ../shared), RUNS (3), PERF (1: one more run under `perf record`, and the
# top of its report by function).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
data="${DATA:-/tmp/extract-data}"
runs="${RUNS:-3}"
. bench/lib.sh
if [ -n "${1:-}" ]; then bin="$1"; else build_wirewatch release; fi
baseline="${2:-}"
for set in aeb tev; do
  [ -f "$data/$set/pages.tsv" ] || { echo "missing $data/$set: run bench/extract/eval.sh first" >&2; exit 1; }
done
work="$(mktemp -d /tmp/wirewatch-once.XXXXXX)"
port="$(free_port)"
python3 - "$port" "$data" <<'PY' &
import os, socket, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, data = int(sys.argv[1]), sys.argv[2]
sets = {s: sorted(os.listdir(f"{data}/{s}/html")) for s in ("aeb", "tev")}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def setup(self):
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def send(self, content_type, body):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "feed" and parts[1][:-4] in sets:
            name = parts[1][:-4]
            items = "".join(
                f"<item><title>page {page}</title><link>http://127.0.0.1:{port}/page/{name}/{page}</link>"
                f"<guid>{name}-{page}</guid></item>" for page in sets[name])
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'
            return self.send("application/rss+xml", body.encode())
        if len(parts) == 3 and parts[0] == "page" and parts[1] in sets and parts[2] in sets[parts[1]]:
            with open(f"{data}/{parts[1]}/html/{parts[2]}", "rb") as page:
                return self.send("text/html", page.read())
        self.send_error(404)

ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1
printf '[[feed]]\nurl = "http://127.0.0.1:%s/feed/aeb.xml"\n\n[[feed]]\nurl = "http://127.0.0.1:%s/feed/tev.xml"\n' "$port" "$port" > "$work/feeds.toml"
cat > "$work/wirewatch.toml" <<TOML
feeds = ["feeds.toml"]
state_dir = "state"

[fetcher]
allow_private_addresses = ["127.0.0.1"]
min_host_delay = "0s"
max_item_age = "0s"

[output]
stdout = false
jsonl = "out.jsonl"
include = "all"
TOML
# one_run BIN LABEL: one --once pass; prints its line and appends
# "LABEL articles-per-CPU-second" to $work/rates.
one_run() {
  rm -rf "$work/state" "$work/out.jsonl"
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$1" run --once --config "$work/wirewatch.toml" 2>"$work/daemon.log"
  read -r wall user sys < "$work/time"
  articles="$(wc -l < "$work/out.jsonl")"
  python3 -c "import sys; a,w,u,s=int(sys.argv[1]),*map(float,sys.argv[2:5]); print(f'{sys.argv[5]}: {a} articles, wall {w:.2f} s, CPU {u+s:.2f} s (user {u:.2f}, sys {s:.2f}), {a/(u+s):.0f} articles per CPU-second, {a/w:.0f} per wall-second'); open(sys.argv[6], 'a').write(f'{sys.argv[7]} {a/(u+s)}\\n')" \
    "$articles" "$wall" "$user" "$sys" "$2 run $run" "$work/rates" "$2"
}
for run in $(seq 1 "$runs"); do
  one_run "$bin" new
  if [ -n "$baseline" ]; then one_run "$baseline" baseline; fi
done
if [ -n "$baseline" ]; then
  python3 - "$work/rates" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    label, rate = line.split()
    rates.setdefault(label, []).append(float(rate))
new, base = statistics.median(rates["new"]), statistics.median(rates["baseline"])
print(f"medians: new {new:.0f}, baseline {base:.0f} articles per CPU-second; ratio {new / base:.2f}x")
PY
fi
if command -v strace > /dev/null; then
  rm -rf "$work/state" "$work/out.jsonl"
  strace -f -y -e trace=fsync,fdatasync -o "$work/strace" "$bin" run --once --config "$work/wirewatch.toml" 2>/dev/null
  echo "fsync and fdatasync calls, by file:"
  grep -o '^[0-9]* f[a-z]*sync([0-9]*<[^>]*>' "$work/strace" | sed 's/.*<//; s|.*/||' | sort | uniq -c | sort -rn
fi
if [ "${PERF:-0}" = 1 ] && command -v perf > /dev/null; then
  rm -rf "$work/state" "$work/out.jsonl"
  perf record -q -F 4000 -o "$work/perf.data" "$bin" run --once --config "$work/wirewatch.toml" 2>/dev/null
  perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
fi
echo "work dir: $work"
