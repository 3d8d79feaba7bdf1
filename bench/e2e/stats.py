"""What the bench/e2e scripts share: reading the daemon's timestamps and
printing latency quantiles."""

import json
from datetime import datetime


def seconds(stamp):
    """Epoch seconds of an RFC 3339 stamp with nanoseconds (microseconds
    kept, for fromisoformat)."""
    head, _, rest = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "." + (rest + "000000")[:6] + "+00:00").timestamp()


def quantiles(values):
    """Median, p90, p99 and max of durations in seconds, in milliseconds."""
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    return f"median {pick(0.5)*1000:7.1f} ms  p90 {pick(0.9)*1000:7.1f} ms  p99 {pick(0.99)*1000:7.1f} ms  max {values[-1]*1000:7.1f} ms"


def first_outputs(out_path, guids):
    """(guid, discovered, classified) in epoch seconds for the first output
    line of each story whose guid is in `guids`."""
    seen = set()
    for line in open(out_path):
        record = json.loads(line)
        item = record["article"]["item"]
        guid = item["guid"]
        if guid in seen or guid not in guids:
            continue
        seen.add(guid)
        yield guid, seconds(item["discovered_at"]), seconds(record["classification"]["classified_at"])


def truth_times(truth_path, field):
    """guid -> the first `field` (epoch milliseconds) of a truth file, in
    seconds."""
    times = {}
    for line in open(truth_path):
        record = json.loads(line)
        times.setdefault(record["guid"], record[field] / 1000)
    return times
