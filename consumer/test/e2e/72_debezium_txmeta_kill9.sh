#!/usr/bin/env bash
# 72_debezium_txmeta_kill9.sh: Debezium's transaction topic under kill -9.
# `format: debezium` with `transaction_metadata: true` on a transactional
# Kafka sink (exactly once for read_committed readers), the consumer
# killed (-9) at random points while a writer commits transactions of 1 to
# 1,500 rows, and restarted each time.
#
# Kafka is librdkafka's mock cluster in a process of its own, read back by
# offsets with read_committed (tools/kafka_dump).  A witness slot, created
# before any change, lists every committed change with its transaction.
# The mock shows the records of aborted Kafka transactions to
# read_committed readers: exactly once is checked on the committed log
# the checkpoint records tell (kafka_txn_check.py), and the other checks
# read the committed records only.
#
# Checks, against the witness: each restart resumed after the newest
# checkpoint record, no committed record was written again; the data
# topics hold every change exactly once (but the big transaction's, see
# below); the transaction topic `<prefix>.transaction` holds exactly one
# BEGIN and one END per committed transaction (keyed "<xid>:<commit lsn>"),
# the BEGIN before the END, the END's event_count and data_collections
# equal to the transaction's changes; each data record's transaction block
# names its transaction, and its total_order runs 1..n without a gap or a
# repeat.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(12,2), at timestamp)" \
    "CREATE TABLE public.items (id int PRIMARY KEY, qty int)" \
    "CREATE TABLE public.bulk (id int PRIMARY KEY, v int)" \
    -- witness tributary_e2e

mock_start 1
# The checkpoint topic made through the mock's control port: the sink's
# CreateTopics waits 30 s for a controller the mock (librdkafka 2.0)
# never names, and the kills would all land in that wait
mock_ctl create __tributary_checkpoints 1
CHECK="python3 $ROOT/consumer/test/e2e/kafka_txn_check.py"

write_pipeline e2e <<EOF
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: e2e
    transactional: true
    format: debezium
    transaction_metadata: true
EOF

# The writer: 40 transactions over two tables, most small, every eighth
# large (1,500 rows), so that kills fall inside transactions too; a pause
# after each (the sink flushes after 100 ms of source silence) so that
# restarted runs commit Kafka transactions between the kills.
# write_txn T: transaction T.
write_txn() {
    local n=$(( ($1 * 7) % 30 + 1 ))
    [ $(($1 % 8)) = 0 ] && n=1500
    pgc_psql -d postgres -c "BEGIN;
        INSERT INTO public.orders SELECT g, g * 1.25, '2024-01-01'::timestamp + g * interval '1 s'
          FROM generate_series($1 * 10000, $1 * 10000 + $n - 1) g;
        INSERT INTO public.items VALUES ($1, $n);
        UPDATE public.orders SET amount = amount + 1 WHERE id = $1 * 10000;
        COMMIT;" >/dev/null
}
# transaction 1 in Kafka first, so that the first kill comes after a
# stored position (a checkpoint record)
ckpt_start k
write_txn 1
wait_dump __tributary_checkpoints "$WORK/k.ck.first" 1
(
    for t in $(seq 2 40); do
        write_txn "$t"
        sleep 0.3
    done
) &
WRITER_PID=$!
kill_while_writing_ckpt k
expect_eq "the slot was confirmed to the end after $KILLS kill(s)" t "$(slot_caught_up tributary_e2e)"

# A kill inside a transaction whose first part is already committed in
# Kafka: one transaction of 1,000,000 rows takes seconds to stream, more
# than the pipeline's 1 s flush, so the sink commits Kafka transactions in
# its middle, with a checkpoint record that holds the open Debezium
# transaction ("dbz_tx").  The kill comes once that checkpoint is there
# (BEGIN written, END not).  The restart resumes inside the transaction
# (the sink has its first part) and must not write a second BEGIN.
#
# The checkpoint, not the BEGIN, decides when to kill: the mock cluster
# (librdkafka 2.0) does not hide the records of aborted Kafka
# transactions from read_committed readers, so a BEGIN is visible as soon
# as it is produced; killed before the Kafka transaction that holds it
# commits, the BEGIN is rightly written again after the restart, and a
# broker would show only that one.  Its rows go to a table of their own:
# the mock cluster keeps only the newest megabytes of a partition, so its
# topic is not read back whole (the witness and the END record count it).
ckpt_kill k
pgc_psql -d postgres -c "INSERT INTO public.bulk SELECT g, g FROM generate_series(1, 1000000) g" >/dev/null
ckpt_start k
mid=f
for _ in $(seq 1 600); do
    "$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints > "$WORK/ckpt.now" 2>/dev/null || true
    if tail -n 1 "$WORK/ckpt.now" | grep '"dbz_tx"' >/dev/null; then
        mid=t
        break
    fi
    sleep 0.1
done
ckpt_kill k
# committed: at or before the newest checkpoint record (the records after
# it belong to the aborted Kafka transaction)
"$TOOLS/kafka_dump" "$BOOT" e2e.transaction > "$WORK/tx.now"
if [ "$mid" = t ] && [ -n "$($CHECK open "$WORK/k.ck.$CKPT_N" "$WORK/tx.now")" ]; then
    mid=t
else
    mid=f
fi
expect_eq "killed with the big transaction's BEGIN committed in Kafka and its END not" t "$mid"
ckpt_start k
expect_eq "the slot was confirmed to the end after the restart" t "$(slot_caught_up tributary_e2e)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

# The witness: "<xid>:<commit lsn as a number>\t<schema.table>\t<event id>"
# for every committed change.
pgc_psql -d postgres -At -F $'\t' -c "SELECT (d->>'xid') || ':' ||
        ((d->>'commit_lsn')::pg_lsn - '0/0'::pg_lsn)::bigint::text,
        (d->>'schema') || '.' || (d->>'table'), (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' IN ('insert', 'update', 'delete') AND d->>'schema' = 'public'" > "$WORK/witness"
"$TOOLS/kafka_dump" "$BOOT" e2e.public.orders > "$WORK/orders"
"$TOOLS/kafka_dump" "$BOOT" e2e.public.items > "$WORK/items"
"$TOOLS/kafka_dump" "$BOOT" e2e.transaction > "$WORK/tx.all"
"$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints > "$WORK/k.ck.final"
if $CHECK once "$WORK/run.log" "$WORK/k" "$WORK/k.ck.final" "$WORK/tx.all" \
        "$WORK/orders" "$WORK/items" > "$WORK/once.out" 2>&1; then
    pass "exactly once in the committed log ($(head -1 "$WORK/once.out"), $KILLS kills)"
else
    fail "exactly once in the committed log ($KILLS kills)" "$(head -10 "$WORK/once.out")"
fi
# the random kills tested something: restarts inside the kill loop (not
# only the two of the big transaction) resumed after a stored position
expect_eq "kill loop restarts resumed after a checkpoint record" t \
    "$([ "$(sed -n 's/^ok: \([0-9]*\) restarts .*/\1/p' "$WORK/once.out")" -gt 2 ] 2>/dev/null && echo t || echo f)"
# the records a broker would show a read_committed reader
{ $CHECK committed "$WORK/orders"; $CHECK committed "$WORK/items"; } > "$WORK/data"
$CHECK committed "$WORK/tx.all" > "$WORK/tx"
echo "# $(cat "$WORK/orders" "$WORK/items" | wc -l) data records read, $(wc -l < "$WORK/data") committed"

cat > "$WORK/check.py" <<'PY'
import collections, json, sys

witness, data, tx = sys.argv[1:4]
want = collections.OrderedDict()           # txn id -> Counter(table)
ids = []
for line in open(witness):
    txn, table, eid = line.rstrip("\n").split("\t")
    want.setdefault(txn, collections.Counter())[table] += 1
    if table != "public.bulk":
        ids.append(eid)
problems = []
def bad(msg):
    if len(problems) < 20:
        problems.append(msg)

# data records: each change exactly once, transaction blocks in order
got_ids = []
orders = collections.defaultdict(list)
for line in open(data):
    f = line.rstrip("\n").split("\t")
    got_ids.append(f[0])
    block = json.loads(f[5])["transaction"]
    if block is None:
        bad("a data record without a transaction block: %s" % f[0])
        continue
    orders[block["id"]].append(block["total_order"])
if sorted(got_ids) != sorted(ids):
    bad("data: %d records, %d changes, %d distinct ids"
        % (len(got_ids), len(ids), len(set(got_ids))))
for txn, seq in orders.items():
    if sorted(seq) != list(range(1, len(seq) + 1)):
        bad("%s: total_order is not 1..%d" % (txn, len(seq)))
    if txn in want and len(seq) != sum(want[txn].values()):
        bad("%s: %d records, %d changes" % (txn, len(seq), sum(want[txn].values())))

# transaction topic: one BEGIN then one END per committed transaction
begins, ends = collections.Counter(), {}
for line in open(tx):
    f = line.rstrip("\n").split("\t")
    key, value = json.loads(f[4]), json.loads(f[5])
    if key["id"] != value["id"]:
        bad("key %s, value id %s" % (key["id"], value["id"]))
    if value["status"] == "BEGIN":
        begins[value["id"]] += 1
        if value["id"] in ends:
            bad("%s: a BEGIN after its END" % value["id"])
    elif value["id"] in ends:
        bad("%s: a second END" % value["id"])
    else:
        ends[value["id"]] = value
for txn, tables in want.items():
    n = sum(tables.values())
    if begins[txn] != 1:
        bad("%s: %d BEGIN records" % (txn, begins[txn]))
    end = ends.get(txn)
    if end is None:
        bad("%s: no END record" % txn)
        continue
    if end["event_count"] != n:
        bad("%s: END event_count %s, %d changes" % (txn, end["event_count"], n))
    dc = {c["data_collection"]: c["event_count"] for c in end["data_collections"]}
    if dc != dict(tables):
        bad("%s: data_collections %s, changes %s" % (txn, dc, dict(tables)))
extra = (set(begins) | set(ends)) - set(want)
if extra:
    bad("BEGIN/END of transactions that committed no change: %s" % sorted(extra)[:5])
print("\n".join(problems))
print("%d transactions, %d changes, %d BEGIN, %d END"
      % (len(want), len(ids), sum(begins.values()), len(ends)))
sys.exit(1 if problems else 0)
PY
if python3 "$WORK/check.py" "$WORK/witness" "$WORK/data" "$WORK/tx" > "$WORK/check.out" 2>&1; then
    pass "BEGIN/END and the data records match the committed transactions exactly once ($(tail -1 "$WORK/check.out"), $KILLS kills)"
else
    fail "BEGIN/END against the committed transactions ($KILLS kills)" "$(head -21 "$WORK/check.out")"
fi
expect_eq "the witness saw the workload (41 transactions)" 41 "$(cut -f1 "$WORK/witness" | sort -u | wc -l)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
