#!/usr/bin/env bash
# 115_debezium_edge_values.sh: `format: debezium`'s special and edge values
# end to end, as the Debezium PostgreSQL connector documentation states
# them, from a real cluster through `tributary run` and the Kafka mock:
# - "TIMESTAMP type": timestamp +/-infinity become 9223372036825200000 /
#   -9223372036832400000 (MicroTimestamp; the same instant in ms for a
#   timestamp(3)'s Timestamp), also inside arrays;
# - "Decimal types": numeric NaN in decimal.handling.mode string is the
#   string constant NAN (and the infinities POSITIVE_INFINITY /
#   NEGATIVE_INFINITY, SpecialValueDecimal's names);
# - timestamptz infinity stays the word (PostgresValueConverter writes
#   "infinity"), a date's too (the documentation gives it no form);
# - BC dates and timestamps and years past 9999 as epoch days / micros,
#   checked against what PostgreSQL computes for the same rows.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
pgc_psql -q -d postgres >/dev/null <<'SQL'
CREATE EXTENSION tributary;
CREATE TABLE public.edge (
    id int PRIMARY KEY, ts timestamp, ts3 timestamp(3), tsa timestamp[],
    tz timestamptz, d date, n numeric);
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
    decimal.handling.mode: string
EOF
start_consumer

pgc_psql -q -d postgres >/dev/null <<'SQL'
INSERT INTO public.edge VALUES
 (1, 'infinity', '-infinity', '{infinity,-infinity}', 'infinity', 'infinity', 'NaN'),
 (2, '-infinity', 'infinity', '{"1970-01-01 00:00:00.000001"}', '-infinity', '-infinity',
  'Infinity'),
 (3, '0044-03-15 12:00:00.25 BC', '10000-01-01 00:00:00.001', NULL, '2024-06-01 10:00:00+00',
  '0044-03-15 BC', '-Infinity');
SQL

wait_dump dbz.public.edge "$WORK/dump" 3
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_eq "3 records" 3 "$(wc -l < "$WORK/dump")"

# What PostgreSQL computes for row 3's finite values, in Debezium's units.
pgc_psql -d postgres -At > "$WORK/oracle" <<'SQL'
SELECT (extract(epoch FROM ts) * 1000000)::bigint || ' ' ||
       floor(extract(epoch FROM ts3) * 1000)::bigint || ' ' ||
       (d - date '1970-01-01')
FROM public.edge WHERE id = 3
SQL
read -r ora_ts ora_ts3 ora_d < "$WORK/oracle"

cat > "$WORK/check.py" <<'PY'
import json, sys
ora_ts, ora_ts3, ora_d = (int(x) for x in sys.argv[2:5])
want = {
    1: {"ts": 9223372036825200000, "ts3": -9223372036832400,
        "tsa": [9223372036825200000, -9223372036832400000],
        "tz": "infinity", "d": "infinity", "n": "NAN"},
    2: {"ts": -9223372036832400000, "ts3": 9223372036825200, "tsa": [1],
        "tz": "-infinity", "d": "-infinity", "n": "POSITIVE_INFINITY"},
    3: {"ts": ora_ts, "ts3": ora_ts3, "tsa": None,
        "tz": "2024-06-01T10:00:00.000000Z", "d": ora_d, "n": "NEGATIVE_INFINITY"},
}
bad = 0
for line in open(sys.argv[1]):
    after = json.loads(line.rstrip("\n").split("\t")[5])["after"]
    i = after.pop("id")
    if after != want[i]:
        print("row %d: got %s, want %s" % (i, after, want[i]))
        bad += 1
    del want[i]
print("%d rows differ, %d missing" % (bad, len(want)))
sys.exit(1 if bad or want else 0)
PY
if python3 "$WORK/check.py" "$WORK/dump" "$ora_ts" "$ora_ts3" "$ora_d" > "$WORK/cmp" 2>&1; then
    pass "every edge value is what Debezium documents ($(tail -1 "$WORK/cmp"))"
else
    fail "edge values differ" "$(head -10 "$WORK/cmp")"
fi
# the BC and year-10000 values, independently of the oracle (proleptic
# Gregorian day counts: 44 BC is year -43)
expect_eq "BC timestamp (PostgreSQL's epoch)" "-63517780799750000 253402300800001 -735160" \
    "$ora_ts $ora_ts3 $ora_d"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
