# kafka_txn_check.py CHECK ARGS...: exactly once on a transactional Kafka
# sink killed -9 in a loop, read from librdkafka's mock cluster (for
# 72_debezium_txmeta_kill9.sh and 95_mongodb_debezium.sh).
#
# The mock cluster (librdkafka 2.0) does not hide the records of aborted
# Kafka transactions from read_committed readers (its Fetch reports no
# aborted transactions and a last stable offset at the end of the log),
# so every record a killed run produced after its last commit stays
# visible, and the next run rightly writes it again.  What tells committed
# from aborted is the checkpoint record each commit carries.  The kill
# loop (lib.sh: ckpt_kill, ckpt_start, kill_while_writing_ckpt) saves,
# after each kill (the daemon dead), the newest records of
# __tributary_checkpoints as NAME.ck.N, and "N PID" of the run started
# next in NAME.runs.
#
# Positions are "H/L:S" (the first column of kafka_dump): a PostgreSQL
# commit LSN or a MongoDB cluster time Timestamp(H, L), then the change
# (none or 9223372036854775807: the whole transaction).  CHECK is one of:
#   once LOG NAME CK_FINAL TX DATA...
#             the committed log holds every change exactly once when
#             (1) each run resumed (its "resuming after" line in LOG)
#             after the newest checkpoint record there was when it
#             started, (2) the positions of the checkpoint records
#             (CK_FINAL, the topic at the end) only grow, and (3) a record
#             is written again only by runs that resumed before it: a
#             change (and a BEGIN) at or before the newest checkpoint at a
#             kill is never written again after it (an END, keyed by its
#             transaction's last change, may be written once more after a
#             checkpoint at that very change: the checkpoint inside the
#             transaction holds no END yet).  TX is the dump of the
#             transaction topic, DATA those of the data topics.  Prints
#             "ok: ..." or the problems (exit 1).
#   committed DUMP
#             prints the records of DUMP a read_committed reader of a real
#             broker would see, given that `once` holds: per partition, a
#             record is aborted when a later one is at or before it (the
#             next run resumed before it and wrote it again).
#   open CK TX
#             prints the transaction ids whose BEGIN is at or before the
#             newest checkpoint record of CK and whose END is not.
import collections
import re
import sys

ALL = 2**63 - 1
RESUME = re.compile(
    r"\[(\d+)\] INFO  pipeline: resuming after (?:"
    r"change (\d+) at cluster time Timestamp\((\d+), (\d+)\)"
    r"|the changes at cluster time Timestamp\((\d+), (\d+)\)"
    r"|event ([0-9A-F]+/[0-9A-F]+:\d+)"
    r"|the transaction committed at ([0-9A-F]+/[0-9A-F]+))$")


def pos_of(eid):
    """'H/L:S' or 'H/L' -> (H << 32 | L, S)."""
    at, _, seq = eid.partition(":")
    hi, lo = at.split("/")
    return (int(hi, 16) << 32 | int(lo, 16), int(seq) if seq else ALL)


def fmt(p):
    if p is None:
        return "none"
    return "%X/%X:%s" % (p[0] >> 32, p[0] & 0xffffffff, "all" if p[1] == ALL else p[1])


def records(path):
    """kafka_dump lines as field lists, but tombstones (no position)."""
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) >= 6 and f[5] != "-":
            yield f


def newest(path):
    lines = [l for l in open(path) if l.strip()]
    return pos_of(lines[-1].split("\t")[0]) if lines else None


def resumed_at(log):
    """pid -> position of its "resuming after" line."""
    out = {}
    for line in open(log):
        m = RESUME.search(line.rstrip("\n"))
        if m is None:
            continue
        g = m.groups()
        if g[1] is not None:
            out[g[0]] = (int(g[2]) << 32 | int(g[3]), int(g[1]))
        elif g[4] is not None:
            out[g[0]] = (int(g[4]) << 32 | int(g[5]), ALL)
        else:
            out[g[0]] = pos_of(g[6] or g[7])
    return out


def status(f):
    """'BEGIN', 'END' or None (a data record)."""
    for s in ("BEGIN", "END"):
        if '"status":"%s"' % s in f[5]:
            return s
    return None


def check_once(log, name, ck_final, tx, data):
    bad, at_kill, checked = [], [], 0
    resumed = resumed_at(log)
    for line in open(name + ".runs"):
        n, pid = line.split()
        c = newest("%s.ck.%s" % (name, n))
        at_kill.append(c)
        if pid not in resumed:
            continue                # killed before it read its position
        checked += 1
        if resumed[pid] != c:
            bad.append("run %s (pid %s) resumed after %s, the newest checkpoint was %s"
                       % (n, pid, fmt(resumed[pid]), fmt(c)))
    ck = [pos_of(f[0]) for f in (l.split("\t") for l in open(ck_final) if l.strip())]
    for a, b in zip(ck, ck[1:]):
        if b <= a:
            bad.append("checkpoint %s after %s" % (fmt(b), fmt(a)))
    seen, limit = collections.Counter(), {}
    for path in [tx] + data:
        for f in records(path):
            p, s = pos_of(f[0]), status(f)
            key = (f[1], f[0], s)
            seen[key] += 1
            # a kill whose checkpoint was before the record (at or before
            # it for an END) allows one more copy
            limit[key] = 1 + sum(1 for c in at_kill
                                 if c is None or (c <= p if s == "END" else c < p))
    for key, cnt in sorted(seen.items(), key=lambda kv: str(kv[0])):
        if cnt > limit[key]:
            bad.append("%s %s %s: %d copies, at most %d" % (key + (cnt, limit[key])))
    if bad:
        print("\n".join(bad[:10]))
        return 1
    print("ok: %d restarts resumed at the newest checkpoint, %d checkpoints growing, "
          "no committed record written again" % (checked, len(ck)))
    return 0


def order_key(f):
    """The order of a partition's records within one run."""
    return (pos_of(f[0]), 1 if status(f) == "END" else 0)


def committed(path):
    lines = open(path).read().splitlines()
    by_part = collections.defaultdict(list)      # (topic, partition) -> line numbers
    for i, line in enumerate(lines):
        f = line.split("\t")
        if len(f) >= 6 and f[5] != "-":
            by_part[(f[1], f[2])].append(i)
    aborted = set()
    for idx in by_part.values():
        low = None                  # the smallest key of the later records
        for i in reversed(idx):
            k = order_key(lines[i].split("\t"))
            if low is not None and low <= k:
                aborted.add(i)
            low = k if low is None or k < low else low
    for i, line in enumerate(lines):
        if i not in aborted:
            print(line)
    return 0


def open_at(ck, tx):
    c = newest(ck)
    if c is None:
        return 0
    state = {}
    for f in records(tx):
        s = status(f)
        if s is not None and pos_of(f[0]) <= c:
            state[f[4]] = s
    for txn, s in state.items():
        if s == "BEGIN":
            print(txn)
    return 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "once":
        return check_once(argv[2], argv[3], argv[4], argv[5], argv[6:])
    if len(argv) == 3 and argv[1] == "committed":
        return committed(argv[2])
    if len(argv) == 4 and argv[1] == "open":
        return open_at(argv[2], argv[3])
    print("usage: kafka_txn_check.py once LOG NAME CK_FINAL TX DATA... | "
          "committed DUMP | open CK TX", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
