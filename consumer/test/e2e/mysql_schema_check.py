#!/usr/bin/env python3
"""mysql_schema_check.py: the checks of 80_mysql_types_schemas.sh, over the
table of mysql_types.py (every MySQL/MariaDB column type the source
supports).

  mysql_schema_check.py registered SCHEMA OUT
      SCHEMA is the JSON Schema the schema stage registered for the table
      (the subject's latest version), OUT the file sink's JSON Lines.
      Every row image (after and before) of table t validates against
      SCHEMA, column by column (python3-jsonschema, numbers read as exact
      decimals so that multipleOf is exact), and the numeric columns are
      numbers in the schema: integer for the integer types and YEAR,
      number for DECIMAL, FLOAT and DOUBLE and BIGINT UNSIGNED (a
      DECIMAL(20,0), multipleOf 1).

  mysql_schema_check.py debezium DUMP REF1 REF2
      DUMP is tools/kafka_dump's output for the table's topic, written in
      `format: debezium` with `schemas.enable: true`.  Each record's
      Connect schema gives every column the type, logical name and
      parameters of Debezium's MySQL connector (EXPECTED below), and each
      value, decoded by that schema (Decimal bytes and scale, epoch days,
      micros and millis, Bits, Json, Geometry), equals what the server
      returns for the row (REF1 after the inserts, REF2 after the updates,
      the references of mysql_types.py ref-sql).  A ZonedTimestamp has
      exactly as many fraction digits as its column's precision (Debezium
      2.2 on); a NOT NULL temporal column's zero date is the epoch
      (Debezium's fallback for a required field), and its field is not
      optional.

Each prints "ok - ..." / "not ok - ..." lines and a last line
"N passed, N failed".
"""
import base64
import datetime
import decimal
import json
import sys

import jsonschema

import mysql_types as mt

D = "io.debezium"
K = "org.apache.kafka.connect.data"

# Debezium MySQL connector's Connect schema per column (type, name,
# parameters) for the default options: decimal.handling.mode precise,
# time.precision.mode adaptive_time_microseconds, bigint.unsigned long,
# binary.handling.mode bytes.
EXPECTED = {
    "id": ("int32",), "ti": ("int16",), "tiu": ("int16",), "si": ("int16",),
    "siu": ("int32",), "mi": ("int32",), "miu": ("int32",), "i": ("int32",),
    "iu": ("int64",), "bi": ("int64",), "biu": ("int64",), "bo": ("int16",),
    "dec1": ("bytes", K + ".Decimal", {"scale": "30", "connect.decimal.precision": "65"}),
    "dec2": ("bytes", K + ".Decimal", {"scale": "0", "connect.decimal.precision": "10"}),
    "dec3": ("bytes", K + ".Decimal", {"scale": "4", "connect.decimal.precision": "9"}),
    "dec4": ("bytes", K + ".Decimal", {"scale": "9", "connect.decimal.precision": "19"}),
    "f": ("float",), "d": ("double",),
    "dt": ("int32", D + ".time.Date"),
    "tm": ("int64", D + ".time.MicroTime"), "tm3": ("int64", D + ".time.MicroTime"),
    "tm6": ("int64", D + ".time.MicroTime"),
    "dtm": ("int64", D + ".time.Timestamp"), "dtm2": ("int64", D + ".time.Timestamp"),
    "dtm6": ("int64", D + ".time.MicroTimestamp"),
    "ts": ("string", D + ".time.ZonedTimestamp"), "ts3": ("string", D + ".time.ZonedTimestamp"),
    "ts6": ("string", D + ".time.ZonedTimestamp"),
    "dtn": ("int32", D + ".time.Date"), "dtmn": ("int64", D + ".time.MicroTimestamp"),
    "tsn": ("string", D + ".time.ZonedTimestamp"),
    "y": ("int32", D + ".time.Year"),
    "bn": ("bytes",), "vb": ("bytes",), "tbl": ("bytes",), "bl": ("bytes",), "lbl": ("bytes",),
    "e": ("string", D + ".data.Enum", {"allowed": "a,b,it's,\u00fc,e\\f"}),
    "s": ("string", D + ".data.EnumSet", {"allowed": "x,y,z,q'\\"}),
    "b1": ("boolean",),
    "b10": ("bytes", D + ".data.Bits", {"length": "10"}),
    "b64": ("bytes", D + ".data.Bits", {"length": "64"}),
    "j": ("string", D + ".data.Json"),
    "g": ("struct", D + ".data.geometry.Geometry"),
    "pt": ("struct", D + ".data.geometry.Geometry"),
    "gv": ("int32",), "gs": ("string",),
}
for _n, _t, _kind, _ref in mt.COLUMNS:
    if _kind == "text" and _n not in EXPECTED:
        EXPECTED[_n] = ("string",)

INTEGER_KINDS = {"int"}
NUMBER_KINDS = {"decimal", "float", "double"}


decimal.getcontext().prec = 400     # exact multipleOf for DECIMAL(65,30)


def load_dec(text):
    return json.loads(text, parse_float=decimal.Decimal)


def alternatives(prop):
    """The non-null JSON types a property allows."""
    alts = prop.get("oneOf", prop.get("anyOf", [prop]))
    return sorted({a.get("type") for a in alts if a.get("type") not in (None, "null")})


def registered(schema_path, out_path):
    c = mt.Checker()
    with open(schema_path, encoding="utf-8") as f:
        schema = load_dec(f.read())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema, format_checker=cls.FORMAT_CHECKER)
    props = schema.get("properties", {})
    for n, _t, kind, _ref in mt.COLUMNS:
        want = ["integer"] if kind in INTEGER_KINDS else (
            ["number"] if kind in NUMBER_KINDS else None)
        if n == "biu":
            # BIGINT UNSIGNED is DECIMAL(20,0): a number, multipleOf 1
            want = ["number"]
            step = [a.get("multipleOf") for a in props.get(n, {}).get("oneOf", [])
                    if a.get("type") == "number"]
            c.ok(step == [1], "schema: column biu is a whole number (multipleOf %s)" % step)
        if want is None:
            continue
        got = alternatives(props.get(n, {}))
        c.ok(n in props and got == want,
             "schema: column %s (%s) is %s (got %s)" % (n, _t, want, got))
    images = 0
    with open(out_path, encoding="utf-8") as f:
        for line in f:
            rec = load_dec(line)
            val = rec.get("value") or {}
            if (val.get("source") or {}).get("table") != "t":
                continue
            for part in ("before", "after"):
                img = val.get(part)
                if img is None:
                    continue
                images += 1
                errs = sorted(v.iter_errors(img), key=lambda e: list(e.path))
                where = "%s %s id=%s" % (val["op"], part, img.get("id"))
                c.ok(not errs, "%s validates against the registered schema%s" % (
                    where, "" if not errs else ": " + "; ".join(
                        "%s: %s" % ("/".join(map(str, e.path)), e.message[:200])
                        for e in errs[:8])))
    c.ok(images == 13, "%d row images checked (5 inserts, 3 updates with both images, "
         "2 deletes: 13)" % images)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return c.failed == 0


# ---- Debezium values back to the source's form --------------------------------

def unscaled(b64):
    return int.from_bytes(base64.b64decode(b64), "big", signed=True)


def decimal_text(b64, scale):
    v = unscaled(b64)
    sign = "-" if v < 0 else ""
    digits = str(abs(v)).rjust(scale + 1, "0")
    return sign + (digits[:-scale] + "." + digits[-scale:] if scale else digits)


def fraction(usec):
    return ("." + ("%06d" % usec).rstrip("0")) if usec else ""


def duration_text(us):
    sign = "-" if us < 0 else ""
    us = abs(us)
    s, f = divmod(us, 1000000)
    return "%s%02d:%02d:%02d%s" % (sign, s // 3600, s // 60 % 60, s % 60, fraction(f))


EPOCH = datetime.datetime(1970, 1, 1)


def datetime_text(us):
    t = EPOCH + datetime.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction(t.microsecond)


def precision_of(n):
    """The fractional-second precision of column n's SQL type."""
    sql = next(t for name, t, _k, _r in mt.COLUMNS if name == n)
    head = sql.split()[0]
    return int(head[head.index("(") + 1:-1]) if "(" in head else 0


def zoned_text(n, v):
    """Debezium's ZonedTimestamp v back to the source's form (fraction
    trimmed), or a text that fails the comparison when its fraction does
    not have exactly the column's precision in digits."""
    p = precision_of(n)
    body = v[:-1] if v.endswith("Z") else v
    frac = body.split(".", 1)[1] if "." in body else ""
    if not v.endswith("Z") or len(frac) != p or not (frac.isdigit() or p == 0):
        return "%s: not UTC with %d fraction digits" % (v, p)
    return mt.trim_fraction(body) + "Z"


EPOCH_VALUE = {"date": 0, "datetime": 0, "timestamp": "1970-01-01T00:00:00Z"}


def source_form(n, kind, field, v):
    """The value the MySQL source writes, from Debezium's v of Connect
    schema field (numbers as text, as mysql_types.same expects)."""
    if v is None:
        return None
    name = field.get("name")
    if name == K + ".Decimal":
        return decimal_text(v, int(field["parameters"]["scale"]))
    if name == D + ".time.Date":
        return (datetime.date(1970, 1, 1) + datetime.timedelta(days=int(v))).isoformat()
    if name == D + ".time.MicroTime":
        return duration_text(int(v))
    if name in (D + ".time.Timestamp", D + ".time.MicroTimestamp"):
        return datetime_text(int(v) * (1000 if name.endswith(".Timestamp") else 1))
    if name == D + ".time.ZonedTimestamp":
        return zoned_text(n, v)
    if name == D + ".data.Bits":
        bits = int.from_bytes(base64.b64decode(v), "little")
        return format(bits, "b").rjust(int(field["parameters"]["length"]), "0")
    if name == D + ".data.Json":
        return json.loads(v, parse_float=str, parse_int=str)
    if name == D + ".data.geometry.Geometry":
        return base64.b64decode(v["wkb"]).hex()
    if field["type"] == "boolean":
        return "1" if v else "0"
    if n == "biu" and int(v) < 0:      # bigint.unsigned.handling.mode long
        return str(int(v) + (1 << 64))
    if kind in ("int", "float", "double"):
        return str(v)
    return v


def debezium(dump_path, ref1_path, ref2_path):
    c = mt.Checker()
    ref1 = {int(r["id"]): r for r in mt.load_jsonl(ref1_path, parse_float=str, parse_int=str)}
    ref2 = {int(r["id"]): r for r in mt.load_jsonl(ref2_path, parse_float=str, parse_int=str)}
    kinds = {n: kind for n, _t, kind, _r in mt.COLUMNS}
    recs = []
    with open(dump_path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 6 and parts[5] != "-":
                recs.append(json.loads(parts[5]))    # JSON text has no raw tab
    ops = sorted(r["payload"]["op"] for r in recs)
    # an update of the key may be a delete and a create, as in Debezium
    c.ok(ops in (["c"] * 5 + ["d"] * 2 + ["u"] * 3, ["c"] * 6 + ["d"] * 3 + ["u"] * 2),
         "the changes on the topic: %s" % "".join(ops))
    schema_checked = False
    for rec in recs:
        c.ok(set(rec) == {"schema", "payload"}, "a record is {schema, payload}")
        env = rec["schema"]
        fields = {f["field"]: f for f in env["fields"]}
        value_fields = {f["field"]: f for f in fields["after"]["fields"]}
        if not schema_checked:
            schema_checked = True
            c.ok(fields["source"]["name"] == "io.debezium.connector.mysql.Source",
                 "the Source struct is the MySQL connector's")
            for n, want in EXPECTED.items():
                f = value_fields.get(n, {})
                got = (f.get("type"),) + ((f.get("name"),) if len(want) > 1 else ()) + (
                    (f.get("parameters"),) if len(want) > 2 else ())
                c.ok(got == want, "Connect schema of %s: %s (got %s)" % (n, want, got))
            for n in sorted(mt.REQUIRED):
                c.ok(value_fields.get(n, {}).get("optional") is False,
                     "the NOT NULL column %s is a required field" % n)
        p = rec["payload"]
        op = p["op"]
        pairs = []
        # before images are the rows as the inserts left them (ref1: the
        # deleted rows 2 and 4 were never updated); an after image is
        # ref1's for a row inserted, ref2's for one updated or moved
        if p.get("before") is not None:
            pairs.append(("before", p["before"], ref1))
        if p.get("after") is not None:
            rid = int(p["after"]["id"])
            pairs.append(("after", p["after"], ref1 if op == "c" and rid in ref1 else ref2))
        for part, img, ref in pairs:
            rid = int(img["id"])
            bad = []
            for n, _t, kind, _r in mt.COLUMNS:
                r = ref[rid].get(n)
                if n in mt.REQUIRED and r is not None and mt.is_zero_date(r):
                    if img.get(n) != EPOCH_VALUE[kind]:
                        bad.append("%s: zero date: expected the epoch %r, got %r" % (
                            n, EPOCH_VALUE[kind], img.get(n)))
                    continue
                mine = source_form(n, kind, value_fields[n], img.get(n))
                eq, got, want = mt.same(kind, mine, ref[rid].get(n))
                if not eq:
                    bad.append("%s: expected %r, got %r (Debezium %r)" % (
                        n, want, got, img.get(n)))
            c.ok(not bad, "%s %s id=%d: %d values decode to the server's%s" % (
                op, part, rid, len(mt.COLUMNS), "" if not bad else
                " (" + "; ".join(bad)[:2000] + ")"))
    print("%d passed, %d failed" % (c.passed, c.failed))
    return c.failed == 0


def main():
    cmd = sys.argv[1]
    if cmd == "registered":
        sys.exit(0 if registered(*sys.argv[2:4]) else 1)
    elif cmd == "debezium":
        sys.exit(0 if debezium(*sys.argv[2:5]) else 1)
    sys.exit("usage: mysql_schema_check.py registered SCHEMA OUT | debezium DUMP REF1 REF2")


if __name__ == "__main__":
    main()
