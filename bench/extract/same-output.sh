#!/usr/bin/env bash
# Whether the cleaner's output is the same, byte for byte, at this tree and
# at another revision: every field of clean()'s result (text, title, byline,
# dates, language, warnings) for every page of AEB, AEB with class and id
# stripped, and trafilatura's set. For refactors that must not change
# behaviour.
#
# usage: bench/extract/same-output.sh [BASE_REV] [DATA]
#   BASE_REV  the revision to compare with (default HEAD: the uncommitted
#             change against the last commit)
#   DATA      normalized datasets (default /tmp/extract-data, made by
#             bench/extract/eval.sh)
#
# Exits 0 when identical, 1 with the count and the first differing pages
# otherwise. The base is built in a temporary worktree with this tree's
# crates/cleaner/examples/dump.rs copied in, so any revision can be a base.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
base="${1:-HEAD}"
data="${2:-/tmp/extract-data}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/wirewatch/target-cleaner}"
dirs=""
for set in aeb aeb-noattr tev; do
  [ -d "$data/$set/html" ] || { echo "missing $data/$set/html: run bench/extract/eval.sh first" >&2; exit 2; }
  dirs="${dirs:+$dirs,}$data/$set/html"
done
work="$(mktemp -d /tmp/wirewatch-same-output.XXXXXX)"
trap 'git -C "$repo" worktree remove --force "$work/base" 2>/dev/null || true; rm -rf "$work"' EXIT

# The base builds in a target dir of its own: in a shared one, its example
# binary would take the place of this tree's (cargo links the last build's
# output there and does not link it again for a tree it finds up to date),
# and a later run would compare the base with itself.
dump() { # TREE TARGET_DIR OUT
  (cd "$1" && CARGO_TARGET_DIR="$2" nice cargo run --quiet --release -p wirewatch-cleaner --example dump -- "$dirs" "$3")
}
dump "$repo" "$CARGO_TARGET_DIR" "$work/this.txt"
git -C "$repo" worktree add --quiet --detach "$work/base" "$base"
cp "$repo/crates/cleaner/examples/dump.rs" "$work/base/crates/cleaner/examples/dump.rs"
dump "$work/base" "$CARGO_TARGET_DIR-same-output-base" "$work/base.txt"
pages=$(wc -l < "$work/this.txt")
if cmp -s "$work/base.txt" "$work/this.txt"; then
  echo "identical: $pages pages (base $base)"
  exit 0
fi
differing=$(diff "$work/base.txt" "$work/this.txt" | grep -c '^>' || true)
echo "different: $differing of $pages pages (base $base); first ones:"
diff "$work/base.txt" "$work/this.txt" | grep '^>' | cut -c3- | cut -d' ' -f1 | head -5
exit 1
