#!/usr/bin/env python3
"""Splits a normalized snippet dataset (normalize_trafilatura_eval.py) into a tuning half
and a held-out half, deterministically: a page is in the tuning half when the first byte
of sha256(page id) is even. Each half is a dataset folder of its own (pages.tsv,
snippets.json, html/ as symlinks), so score_snippets.py and the batch example run on it
unchanged.

usage: split.py DATASET OUT_PREFIX     -> OUT_PREFIX-tune/, OUT_PREFIX-held/
Look only at the tuning half's failures; report both.
"""
import hashlib
import json
import sys
from pathlib import Path


def half(page_id: str) -> str:
    return "tune" if hashlib.sha256(page_id.encode()).digest()[0] % 2 == 0 else "held"


def main() -> None:
    dataset, prefix = Path(sys.argv[1]), sys.argv[2]
    snippets = json.loads((dataset / "snippets.json").read_text(encoding="utf-8"))
    lines = (dataset / "pages.tsv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    for name in ("tune", "held"):
        out = Path(f"{prefix}-{name}")
        (out / "html").mkdir(parents=True, exist_ok=True)
        kept = [row for row in rows if half(row.split("\t")[0]) == name]
        ids = [row.split("\t")[0] for row in kept]
        (out / "pages.tsv").write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
        subset = {pid: snippets[pid] for pid in ids if pid in snippets}
        (out / "snippets.json").write_text(json.dumps(subset), encoding="utf-8")
        for pid in ids:
            link = out / "html" / f"{pid}.html"
            if not link.exists():
                link.symlink_to((dataset / "html" / f"{pid}.html").resolve())
        print(f"{out}: {len(ids)} pages")


if __name__ == "__main__":
    main()
