#!/usr/bin/env python3
"""Summarise bench/decode.sh results and update docs/BENCHMARKS.md.

Inputs are the raw files decode.sh writes, one run a line:
  --timings: plugin round seconds pid vmrss_peak vmhwm rssanon_peak rssshmem_peak samples spill_bytes
  --memory:  plugin rows  seconds pid vmrss_peak vmhwm rssanon_peak rssshmem_peak samples spill_bytes
(sizes in kB but spill in bytes, "NA" when the walsender was not sampled);
--retries lists runs whose pg_recvlogical failed once and was re-run.

Prints the markdown to stdout and, unless --doc is empty, replaces only the
text between <!-- bench-decode:start --> and <!-- bench-decode:end --> in
the doc (appending the section, or creating the file, when missing).  Inside
that section the timing and the memory results sit in their own marked
blocks, so `decode.sh memory` refreshes the memory table and keeps the last
timing table, and MEMCHECK=0 does the reverse.
"""
import argparse
import datetime
import os
import platform
import statistics
import sys

START, END = "<!-- bench-decode:start -->", "<!-- bench-decode:end -->"
T_START, T_END = "<!-- bench-decode-timing:start -->", "<!-- bench-decode-timing:end -->"
M_START, M_END = "<!-- bench-decode-memory:start -->", "<!-- bench-decode-memory:end -->"

# (plugin, peer, bound): tributary's median must be <= bound * peer's median.
# tributary-b0 (batch-bytes=0, one record per message) is reported against
# the same bounds for transparency, but the targets apply to the default:
# its lines say "for comparison" and carry the verdict in plain text, not
# in bold, so bench/lib/summary.py does not count them as targets.
TARGETS = [("tributary", "pgoutput", 0.90), ("tributary", "wal2json", 0.65)]
COMPARED = [("tributary-b0", "pgoutput", 0.90), ("tributary-b0", "wal2json", 0.65)]
FLAT_LIMIT = 0.10  # peak RSS at the large transaction within 10% of the small

DOC_HEADER = """# Benchmarks

Measured figures for tributary.  Every benchmark uses the reference workloads
of the shared bench README (`../shared/bench/README.md` from the repository
root) so that figures compare across features and over time.

Method, common to all sections:
- each benchmark runs on a throwaway PostgreSQL 15 cluster started by
  `scripts/lib/pgcluster.sh`, tuned so that nothing but the measured work runs
  in the timed window (no checkpoint, no autovacuum);
- figures are medians of at least 5 rounds, plugins or pipelines alternating
  (A B A B: odd rounds in list order, even rounds reversed), and the headline
  is a ratio against the peer measured in the same run on the same cluster;
  absolute times and the machine are listed with each section;
- each benchmark script rewrites only its own section, between
  `<!-- NAME:start -->` and `<!-- NAME:end -->` markers; do not edit inside
  them by hand.

"""


def read_runs(path):
    runs = []
    if not path:
        return runs
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 9:
                continue

            def kb(v):
                return None if v == "NA" else int(v)

            runs.append({
                "plugin": parts[0], "key": int(parts[1]), "secs": float(parts[2]),
                "vmrss": kb(parts[4]), "hwm": kb(parts[5]),
                "anon": kb(parts[6]), "shmem": kb(parts[7]),
                "spill": int(parts[9]) if len(parts) > 9 else None,
            })
    return runs


def spill_mib(run):
    return "n/a" if run.get("spill") is None else f"{run['spill'] / 1048576:.0f}"


def mib(kb):
    return "n/a" if kb is None else f"{kb / 1024:.0f}"


def peak(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


def machine(pg_version):
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = "unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({model}), {ram} RAM, "
            f"Linux {platform.release()}, {pg_version}")


def timing_block(runs, args, now, retries):
    order = args.plugins.split()
    by = {p: [r for r in runs if r["plugin"] == p] for p in order}
    med = {p: statistics.median(r["secs"] for r in rs) for p, rs in by.items() if rs}
    out = []
    out.append(f"### W1 decode-only: {args.rows:,} rows in one transaction\n")
    out.append(f"Measured {now}{' (QUICK mode: reduced sizes, not representative)' if args.quick else ''}. "
               f"{args.rounds} rounds; odd rounds in the order {', '.join(order)}, even rounds reversed. "
               "Time is the wall clock of `pg_recvlogical --start -E <end lsn> -f /dev/null` alone "
               "(slot copy and drop excluded). Peak RSS is the walsender's VmHWM, highest over the rounds; "
               "anon is its private part (peak RssAnon), the rest being shared memory it touched.\n")
    if args.skipped:
        out.append(f"Not measured (library not installed): {args.skipped}.\n")
    pg = med.get("pgoutput")
    floor = med.get("floor")
    out.append("| plugin | median s | min s | max s | all rounds (s) | vs pgoutput | above floor s | peak walsender RSS MiB (anon) |")
    out.append("|---|---:|---:|---:|---|---:|---:|---:|")
    for p in order:
        rs = by.get(p) or []
        if not rs:
            continue
        secs = [r["secs"] for r in sorted(rs, key=lambda r: r["key"])]
        ratio = f"{med[p] / pg:.3f}" if pg else "n/a"
        above = f"{med[p] - floor:.3f}" if floor is not None and p != "floor" else "–"
        out.append(f"| {p} | {med[p]:.3f} | {min(secs):.3f} | {max(secs):.3f} | "
                   f"{' '.join(f'{s:.3f}' for s in secs)} | {ratio} | {above} | "
                   f"{mib(peak(r['hwm'] for r in rs))} ({mib(peak(r['anon'] for r in rs))}) |")
    out.append("")
    if retries:
        out.append(retry_note(retries))
    out.append("Targets:\n")
    for plugin, peer, bound in TARGETS + COMPARED:
        target = (plugin, peer, bound) in TARGETS
        line = f"- {plugin} ≤ {bound:.2f} × {peer}" + ("" if target else " (for comparison, not a target)") + ": "
        if plugin in med and peer in med:
            ratio = med[plugin] / med[peer]
            verdict = "PASS" if ratio <= bound else "MISS"
            shown = f"**{verdict}**" if target else verdict
            line += (f"{shown}: {med[plugin]:.3f} s / {med[peer]:.3f} s = {ratio:.3f} "
                     f"(limit {bound * med[peer]:.3f} s)")
        else:
            missing = " and ".join(x for x in (plugin, peer) if x not in med)
            line += f"not evaluated ({missing} not measured)"
        out.append(line)
    out.append("")
    return "\n".join(out)


def retry_note(retries):
    return (f"{len(retries)} run(s) failed once and were re-run under a new slot name; the table has "
            "the re-run. Errors: " + "; ".join(f"`{r.strip()}`" for r in retries) + "\n")


def memory_block(runs, args, now, retries):
    small, large = (int(x) for x in args.mem_rows.split())
    plugins = []
    for r in runs:
        if r["plugin"] not in plugins:
            plugins.append(r["plugin"])
    out = []
    out.append("### Memory: walsender peak RSS against transaction size (W4-style)\n")
    out.append(f"Measured {now}{' (QUICK mode: reduced sizes, not representative)' if args.quick else ''}. "
               f"One transaction of {small:,} rows and one of {large:,} rows (fresh database, table and "
               "template slots), each decoded once per plugin with the W1 options. Peak RSS is the "
               "walsender's VmHWM (anon: peak RssAnon). Flat means the peak at the large transaction is "
               f"within {FLAT_LIMIT:.0%} of the peak at the small one.\n")
    out.append(f"| plugin | peak RSS MiB (anon) at {small:,} | at {large:,} | growth | flat | spilled MiB | decode s |")
    out.append("|---|---:|---:|---:|---|---:|---:|")
    verdicts, notes = [], []
    for p in plugins:
        s = next((r for r in runs if r["plugin"] == p and r["key"] == small), None)
        b = next((r for r in runs if r["plugin"] == p and r["key"] == large), None)
        if not s or not b:
            continue
        if s["hwm"] and b["hwm"]:
            growth = b["hwm"] / s["hwm"] - 1
            flat = "yes" if growth <= FLAT_LIMIT else "NO"
            gtxt = f"{growth:+.1%}"
            verdicts.append(f"{p}: {'flat' if flat == 'yes' else 'NOT flat'} ({gtxt})")
        else:
            flat, gtxt = "n/a", "n/a"
        out.append(f"| {p} | {mib(s['hwm'])} ({mib(s['anon'])}) | {mib(b['hwm'])} ({mib(b['anon'])}) | "
                   f"{gtxt} | {flat} | {spill_mib(s)} / {spill_mib(b)} | {s['secs']:.2f} / {b['secs']:.2f} |")
        if not s.get("spill"):
            notes.append(f"{p} did not spill at {small:,} rows: that transaction fit in "
                         "logical_decoding_work_mem, so the comparison overstates growth.")
    out.append("")
    if verdicts:
        out.append("Result: " + "; ".join(verdicts) + ".\n")
    for note in notes:
        out.append(f"Note: {note}\n")
    if retries:
        out.append(retry_note(retries))
    if args.skipped:
        out.append(f"Not measured (library not installed): {args.skipped}.\n")
    return "\n".join(out)


def between(text, start, end):
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        return None
    return text[i + len(start):j]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timings")
    ap.add_argument("--memory")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--plugins", default="")
    ap.add_argument("--skipped", default="")
    ap.add_argument("--mem-rows", default="1000000 5000000")
    ap.add_argument("--pg-version", default="PostgreSQL ?")
    ap.add_argument("--tributary-lib", default="not installed")
    ap.add_argument("--quick", type=int, default=0)
    ap.add_argument("--doc", default="")
    ap.add_argument("--retries")
    args = ap.parse_args()

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    retries = open(args.retries).read().splitlines() if args.retries else []
    t_retries = [r for r in retries if " run_" in r]
    m_retries = [r for r in retries if " mem_" in r]
    timing = timing_block(read_runs(args.timings), args, now, t_retries) if args.timings else None
    memory = memory_block(read_runs(args.memory), args, now, m_retries) if args.memory else None

    for block in (timing, memory):
        if block:
            print(block)

    if not args.doc:
        return
    doc = open(args.doc).read() if os.path.exists(args.doc) else DOC_HEADER
    old = between(doc, START, END) or ""
    if timing is None:
        timing = (between(old, T_START, T_END) or "\n_W1 timing not run yet._\n").strip("\n") + "\n"
    if memory is None:
        memory = (between(old, M_START, M_END) or "\n_Memory check not run yet._\n").strip("\n") + "\n"

    section = "\n".join([
        "",
        "## Decode-only: output plugins (W1, `make bench-decode`)",
        "",
        f"Written by `bench/decode.sh` on {now}. Machine: {machine(args.pg_version)}. "
        f"tributary library: {args.tributary_lib}. "
        "Settings: shared_buffers=1GB, max_wal_size=20GB, checkpoint_timeout=1h, "
        "logical_decoding_work_mem=64MB, autovacuum off, fsync off. "
        "Every run decodes the same WAL: a copy, made with the run's plugin, of a template "
        "slot created before the load, decoded to the LSN recorded after the load.",
        "",
        "Plugin options: tributary none (the defaults: in a walsender several records share one "
        "CopyData message, `batch-bytes=65536`, see docs/PLUGIN.md \"Framing\"); tributary-b0 "
        "`batch-bytes=0` (one record per message, as the other plugins send); pgoutput `proto_version=1, publication_names=bench_pub` "
        "(FOR ALL TABLES); wal2json `format-version=2`; test_decoding none; floor = pgoutput with "
        "`publication_names=bench_empty` (a publication with no table: WAL read plus reorder buffer, "
        "no output).",
        "",
        "`pg_recvlogical -E` stops at the first message at or past the end LSN, or at a keepalive past it. "
        "pgoutput, wal2json, test_decoding and tributary (batched or not: its commit travels in a message "
        "of its own) end on a COMMIT tagged with the end LSN; the floor sends nothing and stops on the "
        "keepalive sent once the walsender has caught up (only a checkpoint record "
        "follows a load). Had more transactions followed, tributary would have written the next one too.",
        "",
        T_START, timing.strip("\n"), T_END,
        "",
        M_START, memory.strip("\n"), M_END,
        "",
    ])
    if START in doc and END in doc and doc.find(START) < doc.find(END):
        i, j = doc.find(START) + len(START), doc.find(END)
        doc = doc[:i] + section + doc[j:]
    else:
        doc = doc.rstrip("\n") + "\n\n" + START + section + END + "\n"
    tmp = args.doc + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, args.doc)


if __name__ == "__main__":
    sys.exit(main())
