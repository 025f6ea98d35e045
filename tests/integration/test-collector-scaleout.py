#!/usr/bin/env python3
"""test-collector-scaleout.py: two collector processes share one port
(SO_REUSEPORT) and one PostgreSQL, fed concurrently, with retries sent to
whichever process the kernel picks: the database matches the truth exactly.
"""
import importlib.util
import os
import re
import threading

spec = importlib.util.spec_from_file_location(
    "h", os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-collector-harness.py"))
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)

w = h.setup("scaleout")
c1 = h.Collector(w, name="c1", plain=True)
c2 = h.Collector(w, name="c2", port=c1.port, plain=True)
h.check(c1.port == c2.port, "two collectors listen on one port (%d)" % c1.port)
cl = h.Client(w, c1.port)
device, token, _ = h.enroll(w, cl)
cl.close()

THREADS, BATCHES, EVENTS = 4, 12, 250
# One batch first, so this month's usage_events partition exists before the
# concurrent phase: concurrent creation of the same partition is a known
# database-side race (aimeter.ensure_partition), not what this test is about.
(warm,), truth_n, truth_s = h.mkbatches(w, "warm", 1, 10, 499)
cl = h.Client(w, c1.port)
st, _, _ = cl.post_batch(warm, token)
cl.close()
h.check(st == 200, "warm-up batch accepted")
sets = []
for t in range(THREADS):
    bs, n, s = h.mkbatches(w, "t%d" % t, BATCHES, EVENTS, 500 + t)
    sets.append(bs)
    truth_n += n
    truth_s += s
acks = []
lock = threading.Lock()
errors = []


def feed(bs):
    for i, b in enumerate(bs):
        sends = 2 if i % 3 == 0 else 1  # every third batch is retried
        for _ in range(sends):
            c = h.Client(w, c1.port)  # a new connection each time: the kernel picks the process
            st, _, data = c.post_batch(b, token)
            c.close()
            if st != 200:
                errors.append(st)
                continue
            with lock:
                acks.append(data)


threads = [threading.Thread(target=feed, args=(bs,)) for bs in sets]
for t in threads:
    t.start()
for t in threads:
    t.join(600)
h.check(not errors, "every post was acknowledged (errors: %s)" % errors[:5])
acc = dup = 0
for data in acks:
    a, d, _ = h.parse_ack(w, data)
    acc += a
    dup += d
retried = THREADS * len(range(0, BATCHES, 3)) * EVENTS
h.check(acc == truth_n - 10 and dup == retried,
        "acks: %d accepted (truth %d), %d duplicates (retried %d)" % (acc, truth_n - 10, dup, retried))
h.check(h.totals(w) == (truth_n, truth_s), "usage_events matches the truth exactly")
h.check(h.rollup_total(w) == truth_n, "usage_daily matches the truth exactly")


def accepted(col):
    _, text = col.metrics()
    return int(re.search(r"aimeter_batches_committed_total (\d+)", text).group(1))


n1, n2 = accepted(c1), accepted(c2)
h.check(n1 > 0 and n2 > 0 and n1 + n2 == len(acks) + 1,
        "both processes took batches (%d and %d)" % (n1, n2))
c1.stop()
c2.stop()
