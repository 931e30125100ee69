#!/usr/bin/env python3
"""mongo_compare.py: compare source rows with the MongoDB sink's documents.

Used by 44_sink_mongodb.sh.  Arguments: TYPES ROWS DOCS KEY
  TYPES  column=type pairs, separated by ";" (the source table's columns)
  ROWS   the source rows, one row_to_json per line (TimeZone UTC)
  DOCS   tools/mongo_dump's output: canonical Extended JSON per line
  KEY    the key columns, comma-separated

This is an oracle written apart from the sink's C code: from the type of
each column (docs/MONGODB.md) it says which BSON type and value the
document must hold, and checks every field of every document, _id
included, and that no document is missing or extra.  Prints the first
differences and exits 1, or prints "equal N" and exits 0.
"""
import json
import sys
from datetime import datetime, timezone
from decimal import Decimal

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ms_of(text):
    """An ISO timestamp or date as ms since the epoch, UTC, floored."""
    t = text.replace(" ", "T")
    if len(t) == 10:
        t += "T00:00:00"
    d = datetime.fromisoformat(t)
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    delta = d - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def integer(v):
    n = int(v)
    return {"$numberInt": str(n)} if -2**31 <= n < 2**31 else {"$numberLong": str(n)}


def json_value(v):
    """Embedded json/jsonb: integers int32/int64, other numbers double."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, Decimal):
        if v == v.to_integral_value() and "." not in str(v) and "E" not in str(v).upper():
            return integer(v)
        return ("double", float(v))
    if isinstance(v, list):
        return [json_value(x) for x in v]
    return {k: json_value(x) for k, x in v.items()}


def expect(typ, v):
    """What the sink must write for value v of SQL type typ."""
    if v is None:
        return None
    if typ.endswith("[]"):
        return [expect(typ[:-2], x) for x in v]
    base = typ.split("(")[0].split()[0]
    if base in ("smallint", "integer", "bigint"):
        return integer(v)
    if base == "numeric":
        return ("decimal", Decimal(str(v)))
    if base in ("double", "real"):
        return ("double", float(v))
    if base == "boolean":
        return v
    if base in ("json", "jsonb"):
        return json_value(v)
    if base == "bytea":
        return ("binary", bytes.fromhex(v[2:]))
    if base in ("timestamp", "date"):
        return {"$date": {"$numberLong": str(ms_of(v))}}
    return v


def actual(d):
    """A canonical Extended JSON value, with the numbers that need a
    tolerant comparison made comparable."""
    if isinstance(d, dict):
        if "$numberDecimal" in d:
            return ("decimal", Decimal(d["$numberDecimal"]))
        if "$numberDouble" in d:
            return ("double", float(d["$numberDouble"]))
        if "$binary" in d:
            import base64
            assert d["$binary"]["subType"] == "00", d
            return ("binary", base64.b64decode(d["$binary"]["base64"]))
        return {k: actual(x) for k, x in d.items()}
    if isinstance(d, list):
        return [actual(x) for x in d]
    return d


def same(e, a):
    """Equal, a Decimal with the same digits (exponent) too."""
    if isinstance(e, tuple) and isinstance(a, tuple) and e[0] == a[0] == "decimal":
        return e[1] == a[1] and e[1].as_tuple().exponent == a[1].as_tuple().exponent
    if isinstance(e, dict) and isinstance(a, dict):
        return list(e) == list(a) and all(same(e[k], a[k]) for k in e)
    if isinstance(e, list) and isinstance(a, list):
        return len(e) == len(a) and all(same(x, y) for x, y in zip(e, a))
    return e == a


def main():
    types = dict(p.split("=", 1) for p in sys.argv[1].split(";"))
    keys = sys.argv[4].split(",")
    rows = [json.loads(l, parse_float=Decimal, parse_int=Decimal)
            for l in open(sys.argv[2]) if l.strip()]
    docs = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
    want = {}
    for r in rows:
        doc = {c: expect(types[c], v) for c, v in r.items()}
        ids = [doc[k] for k in keys]
        _id = ids[0] if len(keys) == 1 else {k: doc[k] for k in keys}
        want[json.dumps(_id, sort_keys=True, default=str)] = \
            dict([("_id", _id)] + list(doc.items()))
    got = {}
    for d in docs:
        a = actual(d)
        got[json.dumps(a["_id"], sort_keys=True, default=str)] = a
    problems = []
    for k in sorted(set(want) | set(got)):
        if k not in got:
            problems.append("missing document _id " + k)
        elif k not in want:
            problems.append("extra document _id " + k)
        elif not same(want[k], got[k]):
            for f in want[k]:
                if not same(want[k][f], got[k].get(f, "<absent>")):
                    problems.append("_id %s field %s: want %r got %r"
                                    % (k, f, want[k][f], got[k].get(f, "<absent>")))
            extra = set(got[k]) - set(want[k])
            if extra:
                problems.append("_id %s extra fields %s" % (k, sorted(extra)))
    if problems:
        print("\n".join(problems[:5]))
        sys.exit(1)
    print("equal %d" % len(want))


if __name__ == "__main__":
    main()
