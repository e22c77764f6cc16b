"""The Python stdlib way of natatlas's ingest + join, the bench's second peer.

For each carrier folder of a campaign: the phone's sent rows (Success S) into a dict
keyed by message id, then the server rows streamed past it; the first server row of
each sent id joins, and the joined rows' external ports make a histogram. Prints
{"seconds", "cpuSeconds", "maxRssMB", "result"} like the bench's Node tasks (pipeline/bench/child.ts).

Usage: python3 python_join.py <raw campaign folder>
"""
import csv
import glob
import json
import os
import resource
import sys
import time


def rows(folder, side):
    """Every row after the header of the carrier's `side` files, in file order."""
    for name in sorted(glob.glob(os.path.join(folder, side + '-*.csv'))):
        with open(name, newline='', encoding='utf-8-sig') as f:
            reader = csv.reader(f, skipinitialspace=True)
            next(reader, None)
            yield from reader


def join_carrier(folder):
    sent = {}
    for row in rows(folder, 'client'):
        if len(row) == 5 and row[4] == 'S' and len(row[0]) == 36:
            sent.setdefault(row[0].lower(), (int(row[1]), int(row[2])))
    joined = set()
    histogram = {}
    for row in rows(folder, 'server'):
        if len(row) < 4:
            continue
        uuid = row[0].lower()
        if uuid in sent and uuid not in joined:
            joined.add(uuid)
            port = int(row[2])
            histogram[port] = histogram.get(port, 0) + 1
    return len(joined)


def main():
    root = sys.argv[1]
    started = time.perf_counter()
    cpu_started = time.process_time()
    total = 0
    for carrier in sorted(os.listdir(root)):
        folder = os.path.join(root, carrier)
        if os.path.isdir(folder):
            total += join_carrier(folder)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    # ru_maxrss is in KiB on Linux.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'seconds': seconds, 'cpuSeconds': cpu_seconds, 'maxRssMB': rss, 'result': total}))


main()
