# debezium_witness.py CHECK DUMP WITNESS: for 52_debezium_format.sh.  DUMP
# holds kafka_dump lines of the Debezium sink, WITNESS the JSON changes of
# the witness slot (created with the consumer's, so it decodes the same
# transactions).  CHECK is one of:
#   sequence  each record's source.sequence is [commit LSN of the
#             transaction committed before the change's own (null when the
#             witness has none before), the change's LSN], and source.ts_us
#             is the commit time with its microseconds; prints one line per
#             mismatch, then the counts; exit 1 on a mismatch, or when no
#             record has a previous commit or sub-millisecond digits.
#   restart   prints the commit LSN (witness) of the next-to-last record's
#             update and the first member of the last record's sequence.
import datetime
import json
import sys


def lsn(t):
    hi, lo = t.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def us(t):
    t = t.rstrip("Z")
    d = datetime.datetime.strptime(t if "." in t else t + ".0", "%Y-%m-%dT%H:%M:%S.%f")
    d = d.replace(tzinfo=datetime.timezone.utc)
    return (int(d.timestamp()) * 1000000) + d.microsecond


def sequence(dump, witness):
    commits, change = [], {}
    for line in open(witness):
        r = json.loads(line)
        if r["kind"] == "commit":
            commits.append((lsn(r["commit_lsn"]), us(r["ts"])))
        elif "lsn" in r and "commit_lsn" in r:
            change[lsn(r["lsn"])] = lsn(r["commit_lsn"])
    commits.sort()
    bad = fine = sub_ms = 0
    prev_of = {c: (commits[i - 1][0] if i else None) for i, (c, _) in enumerate(commits)}
    ts_of = dict(commits)
    for line in open(dump):
        v = json.loads(line.rstrip("\n").split("\t")[5])
        s = v["source"]
        first, second = json.loads(s["sequence"])
        own = change.get(s["lsn"])
        if own is None or second != str(s["lsn"]):
            bad += 1
            print("lsn %s: not a witness change, or sequence %s" % (s["lsn"], s["sequence"]))
            continue
        want = prev_of[own]
        if first != (None if want is None else str(want)):
            bad += 1
            print("lsn %s: sequence %s, witness: previous commit %s, own %s"
                  % (s["lsn"], s["sequence"], want, own))
        if s["ts_us"] != ts_of[own]:
            bad += 1
            print("lsn %s: ts_us %s, witness commit time %s" % (s["lsn"], s["ts_us"], ts_of[own]))
        sub_ms += s["ts_us"] % 1000 != 0
        fine += want is not None
    print("records with a previous commit: %d; ts_us with sub-ms digits: %d" % (fine, sub_ms))
    return 1 if bad or fine == 0 or sub_ms == 0 else 0


def restart(dump, witness):
    change = {}
    for line in open(witness):
        r = json.loads(line)
        if r["kind"] == "update":
            change[lsn(r["lsn"])] = lsn(r["commit_lsn"])
    # the records by event id (commit LSN, seq): partitions mix their order
    recs = sorted((lsn(f[0].split(":")[0]), int(f[0].split(":")[1]),
                   json.loads(f[5])["source"])
                  for f in (l.rstrip("\n").split("\t") for l in open(dump)))
    before, after = recs[-2][2], recs[-1][2]
    first, second = json.loads(after["sequence"])
    assert second == str(after["lsn"]), after
    # the update's commit LSN per the witness, the restarted run's first
    # sequence member
    print(change[before["lsn"]], first)
    return 0


if __name__ == "__main__":
    sys.exit({"sequence": sequence, "restart": restart}[sys.argv[1]](sys.argv[2], sys.argv[3]))
