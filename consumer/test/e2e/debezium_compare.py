# debezium_compare.py LAST ORACLE: for 52_debezium_format.sh.  LAST holds
# kafka_dump lines (the last record of each key), ORACLE one JSON object
# per row with what PostgreSQL computes in Debezium's units.  Decodes the
# Debezium values of each record and compares them; prints one line per
# mismatch (PostgreSQL's value, then Kafka's), then "checked N values".
import base64
import datetime
import json
import sys


def unscaled(b64):
    """A Connect Decimal's bytes: big-endian two's complement."""
    return str(int.from_bytes(base64.b64decode(b64), "big", signed=True))


def ttz_text(s):
    """ZonedTime "06:30:00.25Z" -> "06:30:00.250000"."""
    hms, _, frac = s.rstrip("Z").partition(".")
    return hms + "." + (frac + "000000")[:6]


def tz_micros(s):
    """ZonedTimestamp (ISO 8601, UTC) -> micros since the epoch."""
    dt = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (dt - epoch) // datetime.timedelta(microseconds=1)


def decoded(a):
    """The record's after, decoded to the oracle's units."""
    h = json.loads(a["h"]) if a["h"] else None
    return {
        "id": unscaled(a["id"]),
        "n": unscaled(a["n"]),
        "nu_scale": a["nu"]["scale"], "nu": unscaled(a["nu"]["value"]),
        "m": unscaled(a["m"]), "d": a["d"], "t": a["t"], "t3": a["t3"],
        "ts": a["ts"], "ts3": a["ts3"], "tz": tz_micros(a["tz"]),
        "ttz": ttz_text(a["ttz"]), "iv": a["iv"],
        "b": base64.b64decode(a["b"]).hex(), "j": json.loads(a["j"]), "jb": a["jb"],
        "u": a["u"], "h": h,
        "bt": int.from_bytes(base64.b64decode(a["bt"]), "little"),
        "bo": a["bo"], "pt": [a["pt"]["x"], a["pt"]["y"]],
        "arr": None if not a["arr"] else
        [None if x is None else unscaled(x) for x in a["arr"]],
        "i8": str(a["i8"]), "txt": a["txt"],
    }


def main():
    rows = {}
    for line in open(sys.argv[1]):
        f = line.rstrip("\n").split("\t")
        v = json.loads(f[5])
        key = json.loads(f[4])
        rows[unscaled(key["id"])] = (v, key)
    bad = checked = 0
    for line in open(sys.argv[2]):
        want = json.loads(line)
        v, key = rows[want["id"]]
        got = decoded(v["after"])
        # json keeps PostgreSQL's text only up to whitespace (FORMAT.md);
        # hstore is compared as the object hstore_to_json gives
        want["j"] = json.loads(want["j"])
        want["h"] = json.loads(want["h"]) if want["h"] else None
        for k in want:
            checked += 1
            if want[k] != got[k]:
                bad += 1
                print("row %s column %s: PostgreSQL %r, Kafka %r"
                      % (want["id"], k, want[k], got[k]))
        if key != {"id": v["after"]["id"]}:
            bad += 1
            print("row %s: key %r is not the converted id" % (want["id"], key))
        # ts_us carries microseconds of its own (the commit time's in
        # source); ts_ms is it rounded down, ts_ns it times 1000
        s = v["source"]
        if (s["ts_us"] // 1000 != s["ts_ms"] or s["ts_ns"] != s["ts_us"] * 1000
                or v["ts_us"] // 1000 != v["ts_ms"] or v["ts_ns"] != v["ts_us"] * 1000):
            bad += 1
            print("row %s: ts_us/ts_ns do not match ts_ms" % want["id"])
    print("checked %d values" % checked)
    sys.exit(1 if bad else 0)


main()
