"""Feeds on many loopback hosts, for bench/e2e/fetchers.sh.

Serves FEEDS feeds (/feeds/N.xml) spread over HOSTS addresses 127.0.0.2,
127.0.0.3, ... on one port. Every feed lists one story and has an ETag, so
a poll that sends it back is answered 304; a new story every --new-every
seconds in a feed chosen round robin keeps some polls at 200. GET /stats
on any host answers the requests served so far, as JSON
({"requests": n, "not_modified": n}).
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

counts = {"requests": 0, "not_modified": 0}
lock = threading.Lock()
rounds = {}


def body(feed, host, port):
    story = rounds.get(feed, 0)
    items = "".join(
        f"<item><title>Story {feed}.{r}</title><link>http://{host}:{port}/stories/{feed}/{r}.html</link>"
        f"<guid>story-{feed}-{r}</guid></item>"
        for r in range(story, max(-1, story - 5), -1)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>http://{host}:{port}/</link>{items}</channel></rss>").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/stats":
            with lock:
                data = json.dumps(counts).encode()
            return self.answer(200, data, "application/json")
        if not (self.path.startswith("/feeds/") and self.path.endswith(".xml")):
            return self.answer(404, b"not found", "text/plain")
        feed = int(self.path[len("/feeds/"):-len(".xml")])
        etag = f'"r{rounds.get(feed, 0)}"'
        with lock:
            counts["requests"] += 1
            if self.headers.get("If-None-Match") == etag:
                counts["not_modified"] += 1
                hit = True
            else:
                hit = False
        if hit:
            return self.answer(304, b"", None, etag)
        host, port = self.server.server_address
        self.answer(200, body(feed, host, port), "application/rss+xml", etag)

    def answer(self, status, data, content_type, etag=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hosts", type=int, default=30)
    parser.add_argument("--feeds", type=int, default=3000)
    parser.add_argument("--new-every", type=float, default=0.05)
    args = parser.parse_args()
    for host in range(args.hosts):
        server = ThreadingHTTPServer((f"127.0.0.{host + 2}", args.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    feed = 0
    while True:
        time.sleep(args.new_every)
        rounds[feed] = rounds.get(feed, 0) + 1
        feed = (feed + 1) % args.feeds


if __name__ == "__main__":
    main()
