#!/usr/bin/env python3
"""Copies a normalized dataset with each page's <head> broken one way, to check that the
cleaner still finds the article (issue 15: pages whose raw-text element never closes).

usage: break_head.py DATASET OUT MODE
MODE: title    drop the first </title>
      script   drop the first </script> that comes before </head>
      comment  insert an unclosed "<!--" right after <head>
      nohead   drop </head> and <body ...> (the body starts where HTML5 says)
      spill    a script right after <head> whose string holds "</script>": the rest of
               its code spills into the head as text (HTML5 then starts the body there)
"""
import re
import shutil
import sys
from pathlib import Path


def breaks(html: bytes, mode: str) -> bytes:
    low = html.lower()
    head_end = low.find(b"</head")
    if mode == "title":
        at = low.find(b"</title>")
        return html if at < 0 else html[:at] + html[at + 8:]
    if mode == "script":
        at = low.find(b"</script>")
        if at < 0 or (head_end >= 0 and at > head_end):
            return html
        return html[:at] + html[at + 9:]
    if mode == "comment":
        m = re.search(rb"<head[^>]*>", html, re.I)
        return html if not m else html[:m.end()] + b"<!-- unclosed " + html[m.end():]
    if mode == "nohead":
        out = re.sub(rb"</head\s*>", b"", html, count=1, flags=re.I)
        return re.sub(rb"<body[^>]*>", b"", out, count=1, flags=re.I)
    if mode == "spill":
        m = re.search(rb"<head[^>]*>", html, re.I)
        spill = b"<script>document.write('<script src=\"/ad.js\"></script>'); var slot = 1;</script>"
        return html if not m else html[:m.end()] + spill + html[m.end():]
    raise SystemExit(f"unknown mode {mode}")


def main() -> None:
    src, dst, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    (dst / "html").mkdir(parents=True, exist_ok=True)
    for name in ("pages.tsv", "snippets.json"):
        if (src / name).is_file():
            shutil.copy(src / name, dst / name)
    if (src / "expected").is_dir():
        shutil.copytree(src / "expected", dst / "expected", dirs_exist_ok=True)
    changed = 0
    for page in sorted((src / "html").glob("*.html")):
        html = page.read_bytes()
        broken = breaks(html, mode)
        changed += broken != html
        (dst / "html" / page.name).write_bytes(broken)
    print(f"{dst}: {mode}, {changed} pages changed")


if __name__ == "__main__":
    main()
