#!/usr/bin/env python3
"""A WebSub hub and the feeds it pushes, for bench/e2e/websub.sh.

    websubhub.py --port P --feeds N --pushes K --gap S --truth FILE

Feed f (GET /feed/<f>.xml) names this server's /hub as its hub and itself
as its topic; its pages are bench/chaos/feedserver.py's. The hub answers
subscription requests with 202 and then verifies them (GET on the callback
with a challenge). Once every feed's subscription is verified, it adds one
story to feed k mod N every S seconds, K times, and pushes that feed's
newest 20 stories to its subscriber, signed with HMAC-SHA256 under the
subscriber's secret. The truth file gets one JSON line per pushed story:
{"guid": "f3-k7", "pushed_ms": <epoch ms just before the POST>}.
"""

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "chaos"))
import feedserver  # noqa: E402


class Hub:
    def __init__(self, feeds, port):
        self.feeds = feeds
        self.port = port
        self.lock = threading.Lock()
        self.newest = {feed: -1 for feed in range(feeds)}
        # topic -> (callback, secret) once verified
        self.verified = {}
        self.all_verified = threading.Event()

    def topic(self, feed):
        return f"http://127.0.0.1:{self.port}/feed/{feed}.xml"

    def feed_body(self, feed):
        host = f"127.0.0.1:{self.port}"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>Desk {feed}</title><link>http://{host}/</link>"
            f'<atom:link rel="hub" href="http://{host}/hub"/>'
            f'<atom:link rel="self" href="{self.topic(feed)}"/>'
            + feedserver.rss_items(host, feed, self.newest[feed])
            + "</channel></rss>\n"
        ).encode()

    def verify(self, form):
        callback, topic = form["hub.callback"], form["hub.topic"]
        challenge = secrets.token_hex(8)
        query = urllib.parse.urlencode(
            {
                "hub.mode": form["hub.mode"],
                "hub.topic": topic,
                "hub.challenge": challenge,
                "hub.lease_seconds": form.get("hub.lease_seconds", "3600"),
            }
        )
        try:
            with urllib.request.urlopen(f"{callback}?{query}", timeout=10) as response:
                answer = response.read().decode()
        except OSError:
            return
        if answer != challenge or form["hub.mode"] != "subscribe":
            return
        with self.lock:
            self.verified[topic] = (callback, form.get("hub.secret", ""))
            if len(self.verified) == self.feeds:
                self.all_verified.set()

    def push(self, feed, truth):
        with self.lock:
            self.newest[feed] += 1
            index = self.newest[feed]
            body = self.feed_body(feed)
            callback, secret = self.verified[self.topic(feed)]
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            callback,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/rss+xml",
                "X-Hub-Signature": f"sha256={signature}",
            },
        )
        truth.write(json.dumps({"guid": f"f{feed}-k{index}", "pushed_ms": int(time.time() * 1000)}) + "\n")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except OSError as error:
            print(f"push to feed {feed} failed: {error}", file=sys.stderr)


class Handler(feedserver.Handler):
    """feedserver's handler (its pages, its replies), with this hub's
    feeds and the hub endpoint."""

    hub = None

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        try:
            if len(parts) == 2 and parts[0] == "feed" and parts[1].endswith(".xml"):
                feed = int(parts[1][:-4])
                if 0 <= feed < self.hub.feeds:
                    with self.hub.lock:
                        body = self.hub.feed_body(feed)
                    return self.send(200, "application/rss+xml", body)
            if len(parts) == 3 and parts[0] == "page" and parts[2].endswith(".html"):
                return self.page(int(parts[1]), int(parts[2][:-5]))
        except ValueError:
            pass
        self.send(404, "text/plain", b"not found")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if self.path != "/hub" or "hub.callback" not in form:
            return self.send(400, "text/plain", b"bad request")
        self.send(202, "text/plain", b"")
        threading.Thread(target=self.hub.verify, args=(form,), daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--pushes", type=int, default=500)
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between two pushes")
    parser.add_argument("--truth", required=True)
    parser.add_argument("--start-when", help="push only once this file exists")
    args = parser.parse_args()
    hub = Hub(args.feeds, args.port)
    Handler.hub = hub
    server = feedserver.Server(("127.0.0.1", args.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if not hub.all_verified.wait(120):
        print(f"only {len(hub.verified)} of {args.feeds} subscriptions verified", file=sys.stderr)
        sys.exit(1)
    while args.start_when and not os.path.exists(args.start_when):
        time.sleep(0.05)
    with open(args.truth, "a", buffering=1) as truth:
        start = time.time()
        for push in range(args.pushes):
            delay = start + push * args.gap - time.time()
            if delay > 0:
                time.sleep(delay)
            hub.push(push % args.feeds, truth)
    # Keep serving pages while the daemon drains.
    time.sleep(5)


if __name__ == "__main__":
    main()
