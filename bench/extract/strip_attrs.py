#!/usr/bin/env python3
"""Copies a normalized dataset with every class and id attribute removed from every start
tag, to measure how much the cleaner leans on names (issue 15 asks for this figure).

usage: strip_attrs.py DATASET OUT      (pages.tsv and expected/ are copied, html/ rewritten)
Pages are read and written as UTF-8 (the normalized layout already is); script and style
text is left alone.
"""
import re
import shutil
import sys
from pathlib import Path

START_TAG = re.compile(rb"<[A-Za-z][^\s/>]*(?:\s[^>]*)?>")
NAME_ATTR = re.compile(rb"""(\s)(?:class|id)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+)""", re.I)
RAW_TEXT = re.compile(rb"<(script|style)\b.*?</\1\s*>", re.I | re.S)


def strip(html: bytes) -> bytes:
    out, last = [], 0
    for raw in RAW_TEXT.finditer(html):
        out.append(strip_tags(html[last:raw.start()]))
        out.append(raw.group(0))
        last = raw.end()
    out.append(strip_tags(html[last:]))
    return b"".join(out)


def strip_tags(chunk: bytes) -> bytes:
    return START_TAG.sub(lambda tag: NAME_ATTR.sub(rb"\1", tag.group(0)), chunk)


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    (dst / "html").mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "pages.tsv", dst / "pages.tsv")
    if (src / "expected").is_dir():
        shutil.copytree(src / "expected", dst / "expected", dirs_exist_ok=True)
    for page in sorted((src / "html").glob("*.html")):
        (dst / "html" / page.name).write_bytes(strip(page.read_bytes()))
    print(f"{dst}: class and id stripped")


if __name__ == "__main__":
    main()
