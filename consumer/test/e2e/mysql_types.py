#!/usr/bin/env python3
"""mysql_types.py: the column types of 40_mysql_types.sh in one table, and
what the test does with them.

  mysql_types.py schema            CREATE TABLE for every type
  mysql_types.py insert            the INSERTs of tricky values
  mysql_types.py update            the UPDATEs (one changes the key)
  mysql_types.py delete            the DELETEs
  mysql_types.py ref-sql           SELECT that makes the reference: one JSON
                                   object per row, every value as the server
                                   renders it (HEX for text and bytes, CAST
                                   AS CHAR, BIN, ST_AsWKB, ...)
  mysql_types.py compare-snapshot OUT REF
                                   check a file sink's snapshot events
                                   (op r, 56_mysql_snapshot.sh) against the
                                   reference, value by value; same output
  mysql_types.py compare OUT REF_INSERTED REF_UPDATED
                                   check mysql_cat's events in OUT against
                                   the references, value by value; prints
                                   "ok - ..." / "not ok - ..." lines and a
                                   last line "N passed, N failed"

Each column has a kind that says how the server's rendering maps to the
source's JSON (docs/MYSQL.md): numbers exact, floats by their binary
value, dates ISO 8601 (TIMESTAMP in UTC with Z, zero dates null), text by
its UTF-8 bytes, binary by its bytes (base64), BIT as binary digits, JSON
as parsed values with exact numbers, GEOMETRY as WKB hex.
"""
import base64
import json
import struct
import sys

# (name, SQL type, kind, reference expression; {c} is the column)
COLUMNS = [
    ("id", "INT NOT NULL PRIMARY KEY", "int", "CAST({c} AS CHAR)"),
    ("ti", "TINYINT", "int", "CAST({c} AS CHAR)"),
    ("tiu", "TINYINT UNSIGNED", "int", "CAST({c} AS CHAR)"),
    ("si", "SMALLINT", "int", "CAST({c} AS CHAR)"),
    ("siu", "SMALLINT UNSIGNED", "int", "CAST({c} AS CHAR)"),
    ("mi", "MEDIUMINT", "int", "CAST({c} AS CHAR)"),
    ("miu", "MEDIUMINT UNSIGNED", "int", "CAST({c} AS CHAR)"),
    ("i", "INT", "int", "CAST({c} AS CHAR)"),
    ("iu", "INT UNSIGNED", "int", "CAST({c} AS CHAR)"),
    ("bi", "BIGINT", "int", "CAST({c} AS CHAR)"),
    ("biu", "BIGINT UNSIGNED", "int", "CAST({c} AS CHAR)"),
    ("bo", "BOOLEAN", "int", "CAST({c} AS CHAR)"),
    ("dec1", "DECIMAL(65,30)", "decimal", "CAST({c} AS CHAR)"),
    ("dec2", "DECIMAL(10,0)", "decimal", "CAST({c} AS CHAR)"),
    ("dec3", "DECIMAL(9,4)", "decimal", "CAST({c} AS CHAR)"),
    ("dec4", "DECIMAL(19,9)", "decimal", "CAST({c} AS CHAR)"),
    ("f", "FLOAT", "float", "CAST({c} AS DOUBLE)"),
    ("d", "DOUBLE", "double", "{c}"),
    ("dt", "DATE", "date", "CAST({c} AS CHAR)"),
    ("tm", "TIME", "time", "CAST({c} AS CHAR)"),
    ("tm3", "TIME(3)", "time", "CAST({c} AS CHAR)"),
    ("tm6", "TIME(6)", "time", "CAST({c} AS CHAR)"),
    ("dtm", "DATETIME", "datetime", "CAST({c} AS CHAR)"),
    ("dtm2", "DATETIME(2)", "datetime", "CAST({c} AS CHAR)"),
    ("dtm6", "DATETIME(6)", "datetime", "CAST({c} AS CHAR)"),
    ("ts", "TIMESTAMP NULL", "timestamp", "CAST({c} AS CHAR)"),
    ("ts3", "TIMESTAMP(3) NULL", "timestamp", "CAST({c} AS CHAR)"),
    ("ts6", "TIMESTAMP(6) NULL", "timestamp", "CAST({c} AS CHAR)"),
    # NOT NULL temporal columns: their zero dates are null from the source
    # and the epoch in Debezium mode (a required field)
    ("dtn", "DATE NOT NULL DEFAULT '2000-01-01'", "date", "CAST({c} AS CHAR)"),
    ("dtmn", "DATETIME(6) NOT NULL DEFAULT '2000-01-01 00:00:00'", "datetime",
     "CAST({c} AS CHAR)"),
    ("tsn", "TIMESTAMP(3) NOT NULL DEFAULT '2000-01-01 00:00:00'", "timestamp",
     "CAST({c} AS CHAR)"),
    ("y", "YEAR", "int", "CAST({c} AS CHAR)"),
    ("c", "CHAR(10)", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vcs", "VARCHAR(20)", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vcl", "VARCHAR(300)", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("tt", "TINYTEXT", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("txt", "TEXT", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("mtxt", "MEDIUMTEXT", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("ltxt", "LONGTEXT", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("c_l1", "CHAR(10) CHARACTER SET latin1", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vc_l1", "VARCHAR(50) CHARACTER SET latin1", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("txt_l1", "TEXT CHARACTER SET latin1", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vc_1251", "VARCHAR(20) CHARACTER SET cp1251", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vc_ucs2", "VARCHAR(20) CHARACTER SET ucs2", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vc_utf16", "VARCHAR(20) CHARACTER SET utf16", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vc_sjis", "VARCHAR(20) CHARACTER SET sjis", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vc_gbk", "VARCHAR(20) CHARACTER SET gbk", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("vc_greek", "VARCHAR(20) CHARACTER SET greek", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("c_mb3", "CHAR(5) CHARACTER SET utf8mb3", "text", "HEX(CONVERT({c} USING utf8mb4))"),
    ("bn", "BINARY(8)", "binary", "HEX({c})"),
    ("vb", "VARBINARY(50)", "binary", "HEX({c})"),
    ("tbl", "TINYBLOB", "binary", "HEX({c})"),
    ("bl", "BLOB", "binary", "HEX({c})"),
    ("lbl", "LONGBLOB", "binary", "HEX({c})"),
    ("e", "ENUM('a','b','it''s','\u00fc','e\\\\f')", "text", "HEX(CONVERT(CAST({c} AS CHAR) USING utf8mb4))"),
    ("s", "SET('x','y','z','q''\\\\')", "text", "HEX(CONVERT(CAST({c} AS CHAR) USING utf8mb4))"),
    ("b1", "BIT(1)", "bit1", "BIN({c})"),
    ("b10", "BIT(10)", "bit10", "BIN({c})"),
    ("b64", "BIT(64)", "bit64", "BIN({c})"),
    ("j", "JSON", "json", "HEX({c})"),
    ("g", "GEOMETRY", "wkb", "HEX(ST_AsWKB({c}))"),
    ("pt", "POINT", "wkb", "HEX(ST_AsWKB({c}))"),
    ("gv", "INT AS (i + 1) VIRTUAL", "int", "CAST({c} AS CHAR)"),
    ("gs", "VARCHAR(40) AS (CONCAT(vcs, '!')) STORED", "text",
     "HEX(CONVERT({c} USING utf8mb4))"),
]

NAMES = [c[0] for c in COLUMNS]
# the NOT NULL columns other than the key (their default when a row names
# no value)
REQUIRED = {c[0] for c in COLUMNS if "NOT NULL" in c[1] and c[0] != "id"}

BIG_TEXT = "REPEAT('\u00e9\u4e2d\U0001F600', 30000)"
BIG_BLOB = "REPEAT(UNHEX('00FF7F80'), 20000)"

ROWS = {
    1: dict(ti="42", tiu="200", si="-1234", siu="60000", mi="-123456", miu="16000000",
            i="-1", iu="3000000000", bi="1234567890123", biu="9223372036854775808",
            bo="TRUE", dec1="1234.5", dec2="42", dec3="-3.1416", dec4="0.000000001",
            f="0.1", d="0.30000000000000004", dt="'2024-02-29'", tm="'12:34:56'",
            tm3="'-01:02:03.004'", tm6="'23:59:59.999999'",
            dtm="'2024-02-29 12:34:56'", dtm2="'2000-01-01 00:00:00.5'",
            dtm6="'1999-12-31 23:59:59.000001'", ts="'2024-06-01 15:30:00'",
            ts3="'2024-06-01 10:00:00.123'", ts6="'2001-09-09 07:16:40.654321'", y="2024",
            dtn="'2024-02-29'", dtmn="'2024-02-29 12:34:56.000001'",
            tsn="'2024-06-01 10:00:00.100'",
            c="'abc  '", vcs="'h\u00e9llo'", vcl="REPEAT('x', 290)", tt="'t'",
            txt="'line1\\nline2\\ttab \"quoted\" back\\\\slash'", mtxt="'m'",
            ltxt="'\u65e5\u672c\u8a9e \U0001F600'",
            c_l1="'caf\u00e9'", vc_l1="'\u20ac \u00e0 \u00ff'", txt_l1="'Gr\u00fc\u00dfe'",
            vc_1251="'\u041f\u0440\u0438\u0432\u0435\u0442'", vc_ucs2="'\u03a9mega'",
            vc_utf16="'\U0001F600 smile'", vc_sjis="'\u65e5\u672c\u8a9e'",
            vc_gbk="'\u4e2d\u6587'", vc_greek="'\u03b1\u03b2\u03b3'", c_mb3="'\u00e9t\u00e9'",
            bn="UNHEX('00FF00')", vb="UNHEX('DEADBEEF00')", tbl="UNHEX('')", bl="UNHEX('0102')",
            lbl="UNHEX('CAFE')", e="'it''s'", s="'x,z'", b1="b'1'", b10="b'1000000001'",
            b64="b'1111111111111111111111111111111111111111111111111111111111111111'",
            j="'{\"big\": 123456789012345678901234567890, \"f\": 1.5e300, \"s\": \"\u00e9\\\\n\", "
              "\"a\": [1, null, true, false], \"nested\": {\"k\": []}}'",
            g="ST_GeomFromText('LINESTRING(0 0, 1 1.5, -2 3)')",
            pt="ST_GeomFromText('POINT(1 2)', 4326)"),
    2: dict(ti="-128", tiu="255", si="-32768", siu="65535", mi="-8388608", miu="16777215",
            i="-2147483648", iu="4294967295", bi="-9223372036854775808",
            biu="18446744073709551615", bo="FALSE",
            dec1="-99999999999999999999999999999999999.999999999999999999999999999999",
            dec2="-9999999999", dec3="99999.9999", dec4="-9999999999.999999999",
            f="-3.4028234e38", d="1.7976931348623157e308", dt="'9999-12-31'",
            tm="'838:59:59'", tm3="'-838:59:59.000'", tm6="'-00:00:00.000001'",
            dtm="'1000-01-01 00:00:00'", dtm2="'9999-12-31 23:59:59.99'",
            dtm6="'9999-12-31 23:59:59.999999'", ts="'2038-01-19 08:44:07'",
            ts3="'1970-01-01 05:30:01.001'", ts6="'2038-01-19 08:44:07.999999'", y="2155",
            c="''", vcs="''", vcl="REPEAT('\u00e9', 300)", tt="''", txt="''", mtxt=BIG_TEXT,
            ltxt="''", c_l1="''", vc_l1="CONVERT(UNHEX('818D8F909D') USING latin1)",
            txt_l1="''", vc_1251="''", vc_ucs2="''", vc_utf16="''", vc_sjis="''", vc_gbk="''",
            vc_greek="''", c_mb3="''", bn="UNHEX('')", vb="UNHEX('')", tbl="UNHEX('00')",
            bl="UNHEX('')", lbl=BIG_BLOB, e="'\u00fc'", s="''", b1="b'0'", b10="b'0'",
            b64="b'0'", j="'\"just a string\"'",
            g="ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 2 1, 2 2, 1 1))')",
            pt="ST_GeomFromText('POINT(-1.5 1e-300)')"),
    3: dict(ti="0", tiu="0", si="0", siu="0", mi="0", miu="0", i="0", iu="0", bi="0", biu="0",
            bo="0", dec1="0.000000000000000000000000000001", dec2="0", dec3="-0.0001",
            dec4="0", f="-0.0", d="5e-324", dt="'0000-00-00'", tm="'-00:00:01'",
            tm3="'00:00:00'", tm6="'-838:59:59.000000'", dtm="'0000-00-00 00:00:00'",
            dtm2="'2000-02-29 00:00:00.01'", dtm6="'2024-00-00 00:00:00'",
            ts="'0000-00-00 00:00:00'", ts3="'1970-01-01 05:30:01'", ts6="NULL", y="1901",
            dtn="'0000-00-00'", dtmn="'0000-00-00 00:00:00'", tsn="'0000-00-00 00:00:00'",
            c="'x'", vcs="'a  '", vcl="'\u00e9'", tt="'\\0nul'", txt="'\U0001F600'",
            mtxt="''", ltxt="'null'", c_l1="'a'", vc_l1="'b'", txt_l1="'c'",
            vc_1251="'\u0451'", vc_ucs2="'\u00e9'", vc_utf16="'\u00e9'", vc_sjis="'a'",
            vc_gbk="'b'", vc_greek="'c'", c_mb3="' lead'", bn="UNHEX('0102030405060708')",
            vb="UNHEX('00')", tbl="NULL", bl="NULL", lbl="NULL", e="'a'", s="'x,y,z'",
            b1="b'1'", b10="b'1111111111'", b64="b'1'", j="'null'",
            g="ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))')",
            pt="ST_GeomFromText('POINT(0 0)')"),
    4: {},                         # every nullable column NULL
    # j: a document stored with newlines, a tab and spaces between tokens
    # (and inside a string, where they stay): embedded without them
    5: dict(ti="1", vcs="'five'",
            j="'[1, 2.50,\\n \"x\",\\t{\"y\": -0.0e0,\\r\\n \"s\": \"a\\\\n  b\"}\\n]'",
            e="'b'", s="'y'",
            txt="CONCAT('ctl', CHAR(1), CHAR(31), '\u2028', CHAR(127))"),
}

UPDATES = [
    "UPDATE t SET ti = -5, vcs = 'changed', dec1 = -0.5, j = '{\"u\": 1}', "
    "ts = '2030-03-03 03:03:03', b10 = b'0101010101', e = 'a', s = 'y,z' WHERE id = 1",
    "UPDATE t SET id = 50, txt = 'moved' WHERE id = 3",
    # e\f and q'\: members COLUMN_TYPE writes with a backslash escape
    "UPDATE t SET ltxt = REPEAT('L', 70000), f = 1e-45, d = -2.5e-308, e = 'e\\\\f', "
    "s = 'z,q''\\\\' WHERE id = 5",
]

DELETES = ["DELETE FROM t WHERE id IN (2, 4)"]


def schema():
    cols = ",\n  ".join("`%s` %s" % (n, t) for n, t, _, _ in COLUMNS)
    return "CREATE TABLE t (\n  %s\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;" % cols


def inserts():
    out = []
    settable = [n for n, t, _, _ in COLUMNS if " AS (" not in t]
    for rid, vals in ROWS.items():
        cols = ["id"] + [n for n in settable if n != "id"]
        exprs = [str(rid)] + [vals.get(n, "DEFAULT" if n in REQUIRED else "NULL")
                              for n in settable if n != "id"]
        out.append("INSERT INTO t (%s) VALUES (%s);" % (
            ", ".join("`%s`" % c for c in cols), ", ".join(exprs)))
    return "\n".join(out)


def ref_sql():
    pairs = ", ".join("'%s', %s" % (n, ref.format(c="`%s`" % n))
                      for n, _, _, ref in COLUMNS)
    return "SELECT JSON_OBJECT(%s) FROM t ORDER BY id;" % pairs


# ---- comparison -------------------------------------------------------------

def trim_fraction(s):
    """'12:00:00.500000' -> '12:00:00.5'; '...00.000' -> '...00'."""
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def is_zero_date(s):
    y, m, d = s[:10].split("-")
    return m == "00" or d == "00"


def as_float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def expected(kind, ref):
    """The value the source must write for the server's rendering `ref`
    (numbers as their text: both sides are parsed with parse_float=str,
    parse_int=str)."""
    if ref is None:
        return None
    if kind in ("int", "decimal"):
        return ref
    if kind == "date":
        return None if is_zero_date(ref) else ref
    if kind == "time":
        return trim_fraction(ref)
    if kind == "datetime":
        return None if is_zero_date(ref) else trim_fraction(ref).replace(" ", "T")
    if kind == "timestamp":
        if ref.startswith("0000-00-00"):
            return None
        return trim_fraction(ref).replace(" ", "T") + "Z"
    if kind == "text":
        return bytes.fromhex(ref).decode("utf-8")
    if kind == "binary":
        return bytes.fromhex(ref)
    if kind.startswith("bit"):
        return ref.rjust(int(kind[3:]), "0")
    if kind == "json":
        return json.loads(bytes.fromhex(ref).decode("utf-8"), parse_float=str, parse_int=str)
    if kind == "wkb":
        return ref.lower()
    raise ValueError(kind)


def same(kind, mine, ref):
    """Does the source's value equal the reference rendering?  Returns
    (equal, got, expected) for the message."""
    if kind in ("float", "double"):
        if ref is None or mine is None:
            return ref is None and mine is None, mine, ref
        got, want = float(mine), float(ref)
        if kind == "float":
            return as_float32(got) == as_float32(want), mine, ref
        return got == want, mine, ref
    want = expected(kind, ref)
    got = mine
    if kind == "binary" and mine is not None:
        try:
            got = base64.b64decode(mine, validate=True)
        except ValueError:
            return False, mine, want
    return got == want, got, want


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, cond, what):
        if cond:
            self.passed += 1
            print("ok - " + what)
        else:
            self.failed += 1
            print("not ok - " + what)

    def image(self, label, image, ref_row, allow_absent=False):
        """Every column of the image equals the reference row's value."""
        bad = []
        for n, _, kind, _ in COLUMNS:
            if n not in image:
                if not allow_absent:
                    bad.append("%s missing" % n)
                continue
            eq, got, want = same(kind, image[n], ref_row.get(n))
            if not eq:
                bad.append("%s: expected %r, got %r" % (n, want, got))
        self.ok(not bad, "%s: %d columns equal the server's%s" % (
            label, len(image), "" if not bad else " (" + "; ".join(bad)[:2000] + ")"))


def load_jsonl(path, **kw):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line, **kw) for line in f if line.strip()]


def compare(out_path, ref1_path, ref2_path):
    c = Checker()
    items = load_jsonl(out_path, parse_float=str, parse_int=str)
    # references: numbers as text so floats keep their digits
    ref1 = {int(r["id"]): r for r in load_jsonl(ref1_path, parse_float=str, parse_int=str)}
    ref2 = {int(r["id"]): r for r in load_jsonl(ref2_path, parse_float=str, parse_int=str)}
    events = [i for i in items if i["kind"] == "event" and i["table"] == "t"]
    ins = [e for e in events if e["op"] == "c"]
    upd = [e for e in events if e["op"] == "u"]
    dele = [e for e in events if e["op"] == "d"]
    c.ok(len(ins) == len(ROWS), "%d inserts decoded (expected %d)" % (len(ins), len(ROWS)))
    c.ok(len(upd) == len(UPDATES), "%d updates decoded (expected %d)" % (len(upd), len(UPDATES)))
    c.ok(len(dele) == 2, "%d deletes decoded (expected 2)" % len(dele))
    for e in ins:
        rid = int(e["after"]["id"])
        c.image("insert id=%d after" % rid, e["after"], ref1[rid])
        c.ok(e["key"] == {"id": str(rid)}, "insert id=%d key %s" % (rid, e["key"]))
    for e in upd:
        old, new = int(e["before"]["id"]), int(e["after"]["id"])
        c.image("update id=%d before" % old, e["before"], ref1[old])
        c.image("update id=%d after" % new, e["after"], ref2[new])
        c.ok(e["key"] == {"id": str(new)}, "update id=%d->%d key from the new image" % (old, new))
    for e in dele:
        rid = int(e["before"]["id"])
        c.image("delete id=%d before" % rid, e["before"], ref2[rid])
        c.ok(e["after"] is None and e["key"] == {"id": str(rid)}, "delete id=%d key" % rid)
    lasts = [e for e in events if e["last"]]
    c.ok(len(lasts) == len(ROWS) + len(UPDATES) + 1,
         "one last_in_tx event per transaction (%d)" % len(lasts))
    print("%d passed, %d failed" % (c.passed, c.failed))
    return c.failed == 0


def compare_snapshot(out_path, ref_path):
    c = Checker()
    recs = load_jsonl(out_path, parse_float=str, parse_int=str)
    ref = {int(r["id"]): r for r in load_jsonl(ref_path, parse_float=str, parse_int=str)}
    copied = [r for r in recs if r.get("value") and r["value"]["op"] == "r"
              and r["value"]["source"]["table"] == "t"]
    c.ok(len(copied) == len(ref), "%d rows copied (expected %d)" % (len(copied), len(ref)))
    for r in copied:
        rid = int(r["value"]["after"]["id"])
        c.image("copied id=%d" % rid, r["value"]["after"], ref[rid])
        c.ok(r["key"] == {"id": str(rid)}, "copied id=%d key %s" % (rid, r["key"]))
    print("%d passed, %d failed" % (c.passed, c.failed))
    return c.failed == 0


def main():
    cmd = sys.argv[1]
    if cmd == "schema":
        print(schema())
    elif cmd == "insert":
        print(inserts())
    elif cmd == "update":
        print(";\n".join(UPDATES) + ";")
    elif cmd == "delete":
        print(";\n".join(DELETES) + ";")
    elif cmd == "ref-sql":
        print(ref_sql())
    elif cmd == "compare-snapshot":
        sys.exit(0 if compare_snapshot(*sys.argv[2:4]) else 1)
    elif cmd == "compare":
        sys.exit(0 if compare(*sys.argv[2:5]) else 1)
    else:
        sys.exit("usage: mysql_types.py schema|insert|update|delete|ref-sql|compare|"
                 "compare-snapshot")


if __name__ == "__main__":
    main()
