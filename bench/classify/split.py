#!/usr/bin/env python3
"""Split the classifier dev set into a tuning half and a held-out half.

Usage: split.py DEV.jsonl OUT_DIR

Writes OUT_DIR/tune.jsonl and OUT_DIR/held.jsonl. Deterministic: items are
grouped into strata by (language is English or not, label set, hard
negative), sorted within a stratum by the SHA-256 of their id, and dealt
alternately to the two halves starting from a stratum-dependent side, so
each half gets about half of every stratum (positives in many languages on
both sides) and the assignment does not depend on file order. Rules are
tuned by reading errors of tune.jsonl only; held.jsonl is scored, never
read.
"""
import hashlib
import json
import os
import sys


def key(item):
    return hashlib.sha256(item["id"].encode("utf-8")).hexdigest()


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    with open(argv[1], encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    strata = {}
    for item in items:
        lang = item.get("lang") or "en"
        stratum = (
            "en" if lang == "en" else "xx",
            ",".join(sorted(item.get("labels", []))),
            bool(item.get("hard_negative")),
        )
        strata.setdefault(stratum, []).append(item)
    tune, held = [], []
    for stratum in sorted(strata):
        members = sorted(strata[stratum], key=key)
        first = int(hashlib.sha256(repr(stratum).encode()).hexdigest(), 16) % 2
        for index, item in enumerate(members):
            (tune if (index + first) % 2 == 0 else held).append(item)
    os.makedirs(argv[2], exist_ok=True)
    for name, half in (("tune.jsonl", tune), ("held.jsonl", held)):
        half.sort(key=lambda item: item["id"])
        with open(os.path.join(argv[2], name), "w", encoding="utf-8") as f:
            for item in half:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"tune {len(tune)}  held {len(held)}")


if __name__ == "__main__":
    main(sys.argv)
