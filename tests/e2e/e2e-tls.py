#!/usr/bin/env python3
"""Wrong CA or a pin mismatch: nothing is sent (no device enrolls, no event
arrives) and the error says why. The right pin works."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

c = h.Cluster("tls")
try:
    c.start()
    logs, info = h.generate(c.dir, "--sessions", "4")
    want = h.truth_totals(logs)
    other = os.path.join(c.dir, "other")
    os.makedirs(other)
    other_ca, other_crt, _ = h.make_certs(other, name="other-ca")

    cases = [("wrong CA", dict(ca=other_ca), "certificate"),
             ("pin mismatch", dict(pin=h.pin_of(other_crt)), "pinned public key")]
    for label, kw, why in cases:
        a = h.Agent(c, logs, name=label.replace(" ", "-"), **kw)
        a.start()
        time.sleep(4)
        st = a.status()
        a.stop()
        devices = h.psql(c.db, "SELECT count(*) FROM aimeter.devices")
        if devices != "0" or c.totals():
            h.fail("%s: something arrived (%s devices)" % (label, devices))
        err = st.get("last error", "")
        if why not in err.lower() and why not in a.log().lower():
            h.fail("%s: the error does not say why: %s\n%s" % (label, err, a.log()))
        h.log("%s: nothing sent; %s" % (label, err))
    a = h.Agent(c, logs, name="right-pin", pin=h.pin_of(c.crt))
    a.start()
    h.wait_totals(c, want, agent=a)
    a.stop()
    h.log("right pin: delivered, totals exact")
finally:
    c.close()
print("ok")
