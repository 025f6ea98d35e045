#!/usr/bin/env python3
"""One event the collector refuses by name ("event N: ...", HTTP 400) never
takes the events that share its batch (other users' among them) into
quarantine: the agent halves the batch until the event is alone, quarantines
that one event, and every other event arrives exactly.

The refusal comes from a recording proxy in front of the real collector
(any batch holding the poison model), so the test does not depend on which
faults a given collector refuses per event or per batch.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

POISON = b"poison-model-e2e"
c = h.Cluster("poison")
rec = None
try:
    c.start()
    logs, info = h.generate(c.dir, "--sessions", "6")
    want = h.truth_totals(logs)
    total = sum(v[0] for v in want.values())
    # the poison event, in a project of its own, among the generated ones
    d = os.path.join(logs, "claude", "projects", "-poison")
    os.makedirs(d)
    with open(os.path.join(d, "p.jsonl"), "w") as f:
        f.write(json.dumps({
            "type": "assistant", "sessionId": "s-poison", "timestamp": "2026-09-14T12:00:00Z",
            "message": {"model": POISON.decode(), "id": "msg_poison",
                        "usage": {"input_tokens": 1, "output_tokens": 1}}}) + "\n")

    def answer_body(plain):
        return (400, b"event 0: refused by the test") if POISON in plain else None

    rec = h.Recorder(c, answer_body=answer_body)
    a = h.Agent(c, logs, url=rec.url, extra="[ship]\nbatch_events = 64\n")
    a.start()
    h.wait_totals(c, want, agent=a, timeout=180)
    end = time.time() + 60
    st = {}
    while time.time() < end:
        st = a.status()
        if st.get("spooled events") == "0" and st.get("quarantined batches", "").startswith("1 "):
            break
        time.sleep(0.5)
    a.stop()
    if st.get("quarantined batches") != "1 (1 events)":
        h.fail("want the poison event alone in quarantine: %s\n%s" % (st, a.log()[-3000:]))
    refused = [b for p, s, b in rec.bodies if p == "/v1/batches" and s == 400]
    h.log("%d events delivered exactly; the poison event alone quarantined after %d refusals"
          % (total, len(refused)))
    if len(refused) > 20:
        h.fail("too many refused requests to isolate one event: %d" % len(refused))
finally:
    if rec is not None:
        rec.close()
    c.close()
print("ok")
