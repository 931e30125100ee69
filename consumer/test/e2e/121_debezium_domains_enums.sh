#!/usr/bin/env bash
# 121_debezium_domains_enums.sh: domains and enums in `format: debezium`
# with schemas.enable, end to end (a real cluster, `tributary run`, the
# Kafka mock): a domain column is mapped by its final base type, as
# Debezium's "Domain types" has it (a domain over numeric(10,2), one over
# that domain, an array of the domain: Decimal with scale 2 and precision
# 10, the value its base64 unscaled bytes; a domain over varchar: a
# string), and an enum column (and a domain over it, and an array of it)
# is a string named io.debezium.data.Enum whose `allowed` lists the
# labels in sort order.  ALTER TYPE ... ADD VALUE and RENAME VALUE while
# the consumer runs: the next change's schema lists the new labels (the
# plugin sends a new relation record).  Then a snapshot of the table
# through a second pipeline: the same schemas.  Every record's schema must
# match its payload the way a JsonConverter reader checks it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
pgc_psql -q -d postgres >/dev/null <<'SQL'
CREATE EXTENSION tributary;
CREATE TYPE public.level AS ENUM ('low', 'high');
CREATE DOMAIN public.money2 AS numeric(10,2);
CREATE DOMAIN public.pos_money2 AS public.money2 CHECK (VALUE > 0);
CREATE DOMAIN public.level_dom AS public.level;
CREATE DOMAIN public.short AS varchar(8);
CREATE TABLE public.dd (
    id int PRIMARY KEY,
    amount public.money2,
    pos public.pos_money2,
    amounts public.money2[],
    lvl public.level,
    lvl_dom public.level_dom,
    lvls public.level[],
    s public.short);
SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e', 'tributary');
SQL

mock_start 1
write_pipeline e2e <<EOF
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: dbz
    format: debezium
    schemas.enable: true
EOF
start_consumer

pgc_psql -q -d postgres >/dev/null <<'SQL'
INSERT INTO public.dd VALUES (1, 12.5, 3, '{1.5,-2,NULL}', 'low', 'high', '{low,high}', 'abc');
SQL
wait_dump dbz.public.dd "$WORK/dump" 1
pgc_psql -q -d postgres >/dev/null <<'SQL'
ALTER TYPE public.level ADD VALUE 'medium' BEFORE 'high';
INSERT INTO public.dd VALUES (2, -0.01, 0.01, '{}', 'medium', 'medium', '{medium}', '');
ALTER TYPE public.level RENAME VALUE 'low' TO 'minimal';
UPDATE public.dd SET s = 'x' WHERE id = 2;
SQL
wait_dump dbz.public.dd "$WORK/dump" 3
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_eq "3 records" 3 "$(wc -l < "$WORK/dump")"

# A JsonConverter-like check of every record: each payload value fits its
# field's Connect type (a Decimal is base64 bytes, an Enum a string among
# `allowed`), and the Decimal's unscaled value is what PostgreSQL holds.
cat > "$WORK/check.py" <<'PY'
import base64, json, sys
from decimal import Decimal

def dec(b64, scale):
    raw = base64.b64decode(b64)
    return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)

def check(schema, v, where):
    if v is None:
        assert schema.get("optional"), where + ": null in a required field"
        return
    t = schema["type"]
    if t == "array":
        assert isinstance(v, list), where
        for i, x in enumerate(v):
            check(schema["items"], x, "%s[%d]" % (where, i))
    elif t == "bytes":
        base64.b64decode(v, validate=True)
    elif t == "string":
        assert isinstance(v, str), "%s: %r is not a string" % (where, v)
        if schema.get("name") == "io.debezium.data.Enum":
            assert v in schema["parameters"]["allowed"].split(","), where
    elif t.startswith("int"):
        assert isinstance(v, int), where
    else:
        raise AssertionError("%s: unexpected type %s" % (where, t))

out = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    value = json.loads(f[5])
    after_s = value["schema"]["fields"][1]
    fields = {x["field"]: x for x in after_s["fields"]}
    after = value["payload"]["after"]
    for name, x in fields.items():
        check(x, after.get(name), name)
    row = {"id": after["id"]}
    for name in ("amount", "pos"):
        assert fields[name]["name"] == "org.apache.kafka.connect.data.Decimal", fields[name]
        assert fields[name]["parameters"] == {"scale": "2", "connect.decimal.precision": "10"}
        row[name] = str(dec(after[name], 2))
    items = fields["amounts"]["items"]
    assert items["name"] == "org.apache.kafka.connect.data.Decimal" and items["parameters"]["scale"] == "2"
    row["amounts"] = [None if x is None else str(dec(x, 2)) for x in after["amounts"]]
    for name in ("lvl", "lvl_dom"):
        assert fields[name]["name"] == "io.debezium.data.Enum", fields[name]
    assert fields["lvls"]["items"]["name"] == "io.debezium.data.Enum"
    assert fields["lvl"]["parameters"] == fields["lvl_dom"]["parameters"] == fields["lvls"]["items"]["parameters"]
    assert fields["s"]["type"] == "string" and "name" not in fields["s"]
    row["allowed"] = fields["lvl"]["parameters"]["allowed"]
    row.update({k: after[k] for k in ("lvl", "lvl_dom", "lvls", "s")})
    out.append(json.dumps(row, sort_keys=True))
print("\n".join(out))
PY
if python3 "$WORK/check.py" "$WORK/dump" > "$WORK/rows" 2> "$WORK/check.err"; then
    pass "every value fits its schema (JsonConverter's checks)"
else
    fail "a value does not fit its schema" "$(tail -5 "$WORK/check.err")"
fi
expect_grep "row 1: Decimals of the domains, labels low,high" "$WORK/rows" \
    '^\{"allowed": "low,high", "amount": "12.50", "amounts": \["1.50", "-2.00", null\], "id": 1, "lvl": "low", "lvl_dom": "high", "lvls": \["low", "high"\], "pos": "3.00", "s": "abc"\}$'
expect_grep "after ADD VALUE: the new label in sort order" "$WORK/rows" \
    '^\{"allowed": "low,medium,high", "amount": "-0.01", "amounts": \[\], "id": 2, "lvl": "medium", "lvl_dom": "medium", "lvls": \["medium"\], "pos": "0.01", "s": ""\}$'
expect_grep "after RENAME VALUE: the renamed label" "$WORK/rows" \
    '^\{"allowed": "minimal,medium,high", .*"id": 2, .*"s": "x"\}$'
# A snapshot of the same table maps the columns the same way (its relation
# comes from the snapshot's catalog query, not a relation record).
sed -e 's/^pipeline: e2e$/pipeline: e2es/' -e 's/topic_prefix: dbz$/topic_prefix: dbs/' \
    -e 's/^    snapshot: never$/    snapshot: initial\n    slot: tributary_e2es/' \
    "$WORK/p.yaml" > "$WORK/ps.yaml"
"$BIN" check -c "$WORK/ps.yaml" >/dev/null
start_consumer "$WORK/ps.yaml" "$WORK/run_s.log"
wait_dump dbs.public.dd "$WORK/dump_s" 2
stop_consumer
expect_eq "snapshot: 2 records" 2 "$(wc -l < "$WORK/dump_s")"
if python3 "$WORK/check.py" "$WORK/dump_s" > "$WORK/rows_s" 2> "$WORK/check_s.err"; then
    pass "snapshot: every value fits its schema"
else
    fail "snapshot: a value does not fit its schema" "$(tail -5 "$WORK/check_s.err")"
fi
expect_grep "snapshot row 1: Decimals, the renamed label, all labels" "$WORK/rows_s" \
    '^\{"allowed": "minimal,medium,high", "amount": "12.50", "amounts": \["1.50", "-2.00", null\], "id": 1, "lvl": "minimal", "lvl_dom": "high", "lvls": \["minimal", "high"\], "pos": "3.00", "s": "abc"\}$'
expect_grep "snapshot row 2" "$WORK/rows_s" \
    '^\{"allowed": "minimal,medium,high", "amount": "-0.01", "amounts": \[\], "id": 2, "lvl": "medium", "lvl_dom": "medium", "lvls": \["medium"\], "pos": "0.01", "s": "x"\}$'

# the Decimals against PostgreSQL's own values
expect_eq "PostgreSQL holds the decoded amounts" "12.50 3.00 {1.50,-2.00,NULL}|-0.01 0.01 {}" \
    "$(pgc_psql -d postgres -At -c "SELECT string_agg(amount || ' ' || pos || ' ' || amounts::text, '|' ORDER BY id) FROM public.dd")"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report from the snapshot run" "$WORK/run_s.log"
e2e_finish
