"""otlp_wire.py: OTLP export bodies written by hand for tests (protobuf from the field numbers of
specs/enterprise.md section 3, and the OTLP/JSON mapping), so a test can build both the exports a
tool sends and the hostile ones no tool would."""
import json
import struct


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if not n:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def f_len(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def f_varint(num, v):
    return varint(num << 3) + varint(v)


def f_fixed64(num, v):
    return varint(num << 3 | 1) + struct.pack("<Q", v)


def pb_any(v):
    if isinstance(v, bool):
        return f_varint(2, int(v))
    if isinstance(v, int):
        return f_varint(3, v)
    return f_len(1, str(v))


def pb_kv(k, v):
    return f_len(1, k) + f_len(2, pb_any(v))


def pb_logs(resource, records):
    """records: (time_ns, body string, attrs dict). One ResourceLogs, one ScopeLogs."""
    res = b"".join(f_len(1, pb_kv(k, v)) for k, v in resource.items())
    recs = b"".join(f_len(2, f_fixed64(1, t) + f_len(5, pb_any(body))
                          + b"".join(f_len(6, pb_kv(k, v)) for k, v in attrs.items()))
                    for t, body, attrs in records)
    return f_len(1, f_len(1, res) + f_len(2, f_len(1, f_len(1, "com.anthropic.claude_code"))
                                          + recs))


def js_any(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    return {"stringValue": str(v)}


def js_attrs(attrs):
    return [{"key": k, "value": js_any(v)} for k, v in attrs.items()]


def js_logs(resource, records):
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": js_attrs(resource)},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code"}, "logRecords": [
            {"timeUnixNano": str(t), "body": {"stringValue": body}, "attributes": js_attrs(a)}
            for t, body, a in records]}]}]}).encode()


def pb_counter(resource, name, temporality, points):
    """points: (start_ns, time_ns, int value, attrs dict) of one monotonic Sum."""
    res = b"".join(f_len(1, pb_kv(k, v)) for k, v in resource.items())
    dps = b"".join(f_len(1, f_fixed64(2, st) + f_fixed64(3, t) + varint(6 << 3 | 1)
                         + struct.pack("<q", v)
                         + b"".join(f_len(7, pb_kv(k, x)) for k, x in a.items()))
                   for st, t, v, a in points)
    m = f_len(1, name) + f_len(7, dps + f_varint(2, temporality) + f_varint(3, 1))
    return f_len(1, f_len(1, res) + f_len(2, f_len(2, m)))


def js_counter(resource, name, temporality, points):
    return json.dumps({"resourceMetrics": [{
        "resource": {"attributes": js_attrs(resource)},
        "scopeMetrics": [{"metrics": [{"name": name, "sum": {
            "aggregationTemporality": temporality, "isMonotonic": True, "dataPoints": [
                {"asInt": str(v), "startTimeUnixNano": str(st), "timeUnixNano": str(t),
                 "attributes": js_attrs(a)} for st, t, v, a in points]}}]}]}]}).encode()
