#!/usr/bin/env python3
"""Feeds whose stories change over time, with a ground-truth log, for the
fault runs in bench/chaos (run.sh, soak.sh).

    feedserver.py --port P --feeds N --period S --stop-after S --truth FILE

Feed f (GET /feed/<f>.xml, RSS 2.0) gains its story k at
start + (f / N) * period + k * period and lists its newest 20 stories, with
an ETag (a conditional GET of an unchanged feed gets 304). Every story's
page (GET /page/<f>/<k>.html) is a sanctions news story long enough to be
taken as the article. After --stop-after seconds no story is added, so the
daemon can drain.

The truth file gets one JSON line per story the first time a feed response
lists it: {"guid": "f3-k7", "served_ms": <epoch ms>, "appeared_ms": <epoch
ms>}, where appeared_ms is when the story joined its feed (bench/e2e
measures latency from it). A story that left a
feed before anyone read it was never published, and is not in the truth.
"""

import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WINDOW = 20

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav><article><h1>{title}</h1>
<p>The Treasury on {day} sanctioned {count} shipping companies and their owners accused of
moving oil for a sanctioned state in breach of the embargo, freezing their assets and barring
residents from dealing with them, officials said in a statement released in the capital.</p>
<p>The designations, the {ordinal} this quarter, also name vessels that turned off their
transponders to hide ship-to-ship transfers, and warn banks that process payments for them
that they risk secondary sanctions themselves.</p>
<p>Story {guid}, desk {feed}. Officials said more measures would follow if the trade went on,
and that the list would be reviewed with partners at a meeting next month.</p>
</article><footer>Contact the desk. All rights reserved.</footer></body></html>"""

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


class Stories:
    def __init__(self, feeds, period, stop_after, truth_path):
        self.feeds = feeds
        self.period = period
        self.start = time.time()
        self.stop_at = self.start + stop_after
        self.lock = threading.Lock()
        # feed -> highest story index listed in a response so far
        self.served = {}
        self.truth = open(truth_path, "a", buffering=1)

    def newest(self, feed):
        """Index of the feed's newest story now (-1: none yet)."""
        now = min(time.time(), self.stop_at)
        elapsed = now - self.start - (feed / self.feeds) * self.period
        return -1 if elapsed < 0 else int(elapsed // self.period)

    def listed(self, feed, newest):
        """Notes that a response lists stories up to `newest`."""
        lowest = max(0, newest - WINDOW + 1)
        with self.lock:
            before = self.served.get(feed, lowest - 1)
            if newest <= before:
                return
            self.served[feed] = newest
            now_ms = int(time.time() * 1000)
            for index in range(max(before + 1, lowest), newest + 1):
                appeared = self.start + (feed / self.feeds) * self.period + index * self.period
                self.truth.write(
                    json.dumps(
                        {
                            "guid": f"f{feed}-k{index}",
                            "served_ms": now_ms,
                            "appeared_ms": int(appeared * 1000),
                        }
                    )
                    + "\n"
                )


def rss_items(host, feed, newest):
    """The RSS items of feed `feed`'s newest WINDOW stories, newest first."""
    items = []
    for index in range(newest, max(-1, newest - WINDOW), -1):
        guid = f"f{feed}-k{index}"
        items.append(
            f"<item><title>Treasury sanctions shipping network {guid}</title>"
            f"<link>http://{host}/page/{feed}/{index}.html</link>"
            f'<guid isPermaLink="false">{guid}</guid>'
            f"<description>Sanctions story {guid}</description></item>"
        )
    return "".join(items)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stories = None

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle holds
        # the body until the client's delayed ACK (40 ms) and every page
        # fetch looks 40 ms slower than it is.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, status, content_type, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        try:
            if len(parts) == 2 and parts[0] == "feed" and parts[1].endswith(".xml"):
                return self.feed(int(parts[1][:-4]))
            if len(parts) == 3 and parts[0] == "page" and parts[2].endswith(".html"):
                return self.page(int(parts[1]), int(parts[2][:-5]))
        except ValueError:
            pass
        self.send(404, "text/plain", b"not found")

    def feed(self, feed):
        if not 0 <= feed < self.stories.feeds:
            return self.send(404, "text/plain", b"no such feed")
        newest = self.stories.newest(feed)
        etag = f'"{feed}-{newest}"'
        if self.headers.get("If-None-Match") == etag:
            return self.send(304, "application/rss+xml", b"", [("ETag", etag)])
        host = self.headers.get("Host", "127.0.0.1")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Desk {feed}</title><link>http://{host}/</link>"
            + rss_items(host, feed, newest)
            + "</channel></rss>\n"
        ).encode()
        self.send(200, "application/rss+xml", body, [("ETag", etag)])
        if newest >= 0:
            self.stories.listed(feed, newest)

    def page(self, feed, index):
        guid = f"f{feed}-k{index}"
        body = PAGE.format(
            title=f"Treasury sanctions shipping network {guid}",
            day=DAYS[index % len(DAYS)],
            count=3 + index % 7,
            ordinal=["first", "second", "third", "fourth"][index % 4],
            guid=guid,
            feed=feed,
        ).encode()
        self.send(200, "text/html; charset=utf-8", body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # A daemon killed mid-request resets its connections: expected in
        # these runs, not worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--period", type=float, default=10.0, help="seconds between a feed's stories")
    parser.add_argument("--stop-after", type=float, default=3600.0)
    parser.add_argument("--truth", required=True)
    args = parser.parse_args()
    Handler.stories = Stories(args.feeds, args.period, args.stop_after, args.truth)
    Server(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
