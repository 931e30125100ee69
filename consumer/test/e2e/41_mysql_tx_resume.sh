#!/usr/bin/env bash
# 41_mysql_tx_resume.sh: transactions and positions of the MySQL/MariaDB
# binlog source against a real MariaDB 10.11: a multi-table transaction in
# statement order, a 50,000-row transaction, a DDL mid-stream; change
# numbers, last_in_tx and ids ordered as (commit_lsn, seq); a restart from
# a position inside the large transaction and after a whole one delivers
# exactly the rest; a start from a GTID; a resume whose GTID does not
# match and a purged binlog fail with the recovery named; a MariaDB
# restart under a running reader loses and repeats nothing.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
CAT_PID=
E2E_PIDS+=" CAT_PID"

build_tool mysql_cat
CAT=$TOOL
mdb_start
mdb_sql -e "CREATE DATABASE d1"
read -r FILE POS < <(mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')

# events FILE: the event lines of mysql_cat's output.
events() { grep '"kind":"event"' "$1" || true; }
# ids FILE: their ids, in order.
event_ids() { events "$1" | sed -E 's/.*"kind":"event","id":"([^"]+)".*/\1/'; }

mdb_sql d1 <<'SQL'
CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(20));
CREATE TABLE b (id BIGINT PRIMARY KEY, x INT);
CREATE TABLE c (k INT);
BEGIN;
INSERT INTO a VALUES (1, 'one');
INSERT INTO b VALUES (10, 100);
UPDATE a SET v = 'uno' WHERE id = 1;
INSERT INTO c VALUES (7), (8);
DELETE FROM b WHERE id = 10;
COMMIT;
INSERT INTO a SELECT seq + 100, CONCAT('row', seq) FROM seq_1_to_50000;
ALTER TABLE a ADD COLUMN w INT DEFAULT 5;
INSERT INTO a (id, v) VALUES (2, 'after ddl');
BEGIN; UPDATE a SET w = 6 WHERE id = 2; DELETE FROM c WHERE k = 7; INSERT INTO b VALUES (11, 1); COMMIT;
SQL
"$CAT" --port "$MDB_PORT" --server-id 911 --file "$FILE" --pos "$POS" --stop-at-end \
    >"$WORK/full.jsonl" 2>"$WORK/full.log"
expect_eq "read to the end without error" "" "$(cat "$WORK/full.log")"
events "$WORK/full.jsonl" >"$WORK/full.events"
expect_eq "every change delivered: 6 + 50000 + 1 + 3" "50010" "$(wc -l <"$WORK/full.events")"
expect_eq "multi-table transaction in statement order" "c a|c b|u a|c c|c c|d b" \
    "$(head -6 "$WORK/full.events" | sed -E 's/.*"op":"(.)","db":"d1","table":"([a-z])".*/\1 \2/' | paste -sd'|')"
expect_eq "a table without a primary key has no key" "2" \
    "$(head -6 "$WORK/full.events" | grep -c '"table":"c","key":null')"
expect_eq "changes numbered 0.. within each transaction" "0 1 2 3 4 5 | 0 49999 | 0 | 0 1 2" \
    "$(python3 - "$WORK/full.events" <<'PY'
import json, sys, itertools
ev = [json.loads(l) for l in open(sys.argv[1])]
groups = [list(g) for _, g in itertools.groupby(ev, key=lambda e: e["commit_lsn"])]
out = []
for g in groups:
    seqs = [e["seq"] for e in g]
    assert seqs == list(range(len(g))), seqs[:5]
    out.append(" ".join(map(str, seqs)) if len(g) < 10 else "%d %d" % (seqs[0], seqs[-1]))
print(" | ".join(out))
PY
)"
expect_eq "one last_in_tx per transaction, on its last change" "4 4" \
    "$(grep -c '"last":true' "$WORK/full.events") $(python3 - "$WORK/full.events" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
print(sum(1 for i, e in enumerate(ev) if e["last"] and (i + 1 == len(ev) or ev[i + 1]["commit_lsn"] != e["commit_lsn"])))
PY
)"
expect_eq "(commit_lsn, seq) strictly increasing, ids unique" "ok" \
    "$(python3 - "$WORK/full.events" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
keys = [(e["commit_lsn"], e["seq"]) for e in ev]
ids = [e["id"] for e in ev]
print("ok" if all(a < b for a, b in zip(keys, keys[1:])) and len(set(ids)) == len(ids) else "bad")
PY
)"
expect_eq "the ALTER TABLE is a DDL item between the transactions" "1" \
    "$(grep -c '"kind":"ddl","id":"[^"]*","db":"d1","statement":"ALTER TABLE a ADD COLUMN w INT DEFAULT 5"' "$WORK/full.jsonl")"
expect_eq "after the DDL, rows have the new column" "1" \
    "$(grep -c '"after":{"id":2,"v":"after ddl","w":5}' "$WORK/full.jsonl")"
expect_eq "commit items carry the end offset and the GTID state" "4" \
    "$(grep -c '"kind":"commit","id":"0-1-[0-9]*/mariadb-bin.000001:[0-9]*","end_pos":[1-9][0-9]*,"changes":[0-9]*,"gtid_state":"0-1-[0-9]*"' "$WORK/full.jsonl")"

# ---- restart inside the large transaction ---------------------------------
"$CAT" --port "$MDB_PORT" --server-id 912 --file "$FILE" --pos "$POS" --stop-at-end \
    --exit-after 20006 >"$WORK/part1.jsonl"
mid=$(event_ids "$WORK/part1.jsonl" | tail -n 1)
expect_eq "the first run stopped inside the large transaction" "19999" "${mid##*/}"
"$CAT" --port "$MDB_PORT" --server-id 912 --after "$mid" --stop-at-end >"$WORK/part2.jsonl"
{ events "$WORK/part1.jsonl"; events "$WORK/part2.jsonl"; } >"$WORK/both.events"
expect_eq "resume inside a transaction: together exactly the full stream" "same" \
    "$(cmp -s "$WORK/both.events" "$WORK/full.events" && echo same || echo differ)"
expect_eq "the resumed run starts right after the resume point, last_in_tx at the end of that transaction" "20000 true" \
    "$(events "$WORK/part2.jsonl" | head -1 | sed -E 's/.*"seq":([0-9]+).*/\1/') $(events "$WORK/part2.jsonl" | grep '"seq":49999,' | sed -E 's/.*"last":(true|false).*/\1/')"

# ---- resume after a whole transaction, and from a GTID -------------------
whole=$(grep '"kind":"commit"' "$WORK/full.jsonl" | sed -n 2p | sed -E 's/.*"id":"([^"]+)".*/\1/')
"$CAT" --port "$MDB_PORT" --server-id 913 --after "$whole" --stop-at-end >"$WORK/after-whole.jsonl"
expect_eq "resume after a whole transaction starts at the next change" \
    "$(sed -n 50007p "$WORK/full.events" | cut -c1-200)" \
    "$(events "$WORK/after-whole.jsonl" | head -1 | cut -c1-200)"
gtid=${whole%%/*}
"$CAT" --port "$MDB_PORT" --server-id 914 --gtid "$gtid" --stop-at-end >"$WORK/gtid.jsonl"
expect_eq "start after a GTID: the same changes as after that transaction" \
    "$(events "$WORK/after-whole.jsonl" | md5sum)" "$(events "$WORK/gtid.jsonl" | md5sum)"

# ---- refusals ---------------------------------------------------------------
wrong="0-1-999/${whole#*/}"
rc=0
"$CAT" --port "$MDB_PORT" --server-id 915 --after "$wrong" --stop-at-end >/dev/null 2>"$WORK/wrong.log" || rc=$?
expect_eq "a resume point whose GTID differs from the binlog's fails" "1 1" \
    "$rc $(grep -c 'holds transaction 0-1-[0-9]*, but the checkpoint recorded 0-1-999 there: the server.s binlog was replaced; take a new snapshot' "$WORK/wrong.log")"

# ---- a MariaDB restart under a running reader -------------------------------
read -r FILE2 POS2 < <(mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
"$CAT" --port "$MDB_PORT" --server-id 916 --file "$FILE2" --pos "$POS2" --heartbeat-ms 200 \
    >"$WORK/live.jsonl" 2>"$WORK/live.log" &
CAT_PID=$!
mdb_sql d1 -e "INSERT INTO b SELECT seq, seq FROM seq_1000_to_1999"
for i in $(seq 1 50); do mdb_sql d1 -e "INSERT INTO c VALUES ($i)"; done
wait_lines "$WORK/live.jsonl" 1051 30 || true
mdb_restart
for i in $(seq 51 100); do mdb_sql d1 -e "INSERT INTO c VALUES ($i)"; done
for _ in $(seq 1 300); do
    [ "$(events "$WORK/live.jsonl" | wc -l)" -ge 1100 ] && break
    sleep 0.1
done
kill -TERM "$CAT_PID"; wait "$CAT_PID" 2>/dev/null || true; CAT_PID=
expect_eq "across a server restart: every change once" "1100 0" \
    "$(events "$WORK/live.jsonl" | wc -l) $(event_ids "$WORK/live.jsonl" | sort | uniq -d | wc -l)"
expect_eq "the reader logged the lost connection and reconnected" "1" \
    "$(grep -c 'binlog stream lost' "$WORK/live.log" | awk '{print ($1 >= 1)}')"

# ---- a purged binlog ----------------------------------------------------------
mdb_sql -e "FLUSH BINARY LOGS"
last=$(mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print $1}')
mdb_sql -e "PURGE BINARY LOGS TO '$last'"
rc=0
"$CAT" --port "$MDB_PORT" --server-id 917 --after "$mid" --stop-at-end >/dev/null 2>"$WORK/purged.log" || rc=$?
expect_eq "a purged binlog: exit 1, the file and the recovery named" "1 1" \
    "$rc $(grep -c 'cannot send the binlog from mariadb-bin.000001:[0-9]*.*(error 1236).*take a new snapshot' "$WORK/purged.log")"

expect_eq "no sanitizer report from the tool" "" \
    "$(grep -l 'Sanitizer\|runtime error' "$WORK"/*.log 2>/dev/null | tr '\n' ' ')"
e2e_finish
