"""(d) Scale: 1, 10 and 50 platforms in one run."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench.common import (
    GIB,
    SEED,
    Section,
    child_env,
    cpu_s,
    median,
    mib,
    secs,
    suite_cmd,
    verdict,
)
from bench.measure import Measured, measure
from conformance.reference.profile import profile_names


def many_config(path: Path, count: int) -> None:
    names = profile_names()
    lines = [f"seed = {SEED}", ""]
    for i in range(count):
        profile = names[i % len(names)]
        lines += ["[[platform]]", f'name = "p{i + 1:02d}"', f'reference = "{profile}"', ""]
    path.write_text("\n".join(lines), "utf-8")


def part_d(opts: argparse.Namespace, work: Path) -> Section:
    counts = [int(c) for c in opts.counts.split(",") if c.strip()]
    sec = Section("d", "(d) Scale: N reference platforms in one run")
    rows: dict[int, list[Measured]] = {}
    for count in counts:
        cfg = work / f"d-{count}.toml"
        many_config(cfg, count)
        reps = opts.reps
        for i in range(reps):
            m = measure(
                suite_cmd("--config", str(cfg), "--output-dir", str(work / f"d-{count}-{i}")),
                cwd=work,
                log=work / f"d-{count}-{i}.log",
                timeout=opts.timeout,
                env=child_env(),
            )
            rows.setdefault(count, []).append(m)
            sec.loads += [m.load_before, m.load_after]
            print(
                f"  (d) {count} platforms, run {i + 1}/{reps}: "
                f"{'timeout' if m.timed_out else f'{m.wall:.2f} s'}, rc {m.rc}, "
                f"tree peak {mib(m.tree_peak)}",
                flush=True,
            )
            if m.timed_out:
                break

    def wall_of(count: int) -> float | None:
        ok = [m.wall for m in rows.get(count, []) if not m.timed_out]
        return median(ok) if ok else None

    def peak_of(count: int) -> int | None:
        vals = [m.tree_peak for m in rows.get(count, []) if m.tree_peak]
        return max(vals) if vals else None

    lo, hi = min(counts), max(counts)
    w_lo, w_hi = wall_of(lo), wall_of(hi)
    for count in counts:
        w = wall_of(count)
        sec.summary_rows.append(
            (
                f"(d) {count} platform{'s' if count > 1 else ''} in one run: wall (median), peak "
                "memory",
                f"{secs(w) if w is not None else 'timeout'}, {mib(peak_of(count))}",
                "< 1 GiB" if count == hi else "—",
                verdict((peak_of(count) or 0) < GIB) if count == hi else "",
            )
        )
    if hi != lo:
        ratio = (w_hi / w_lo) if (w_hi and w_lo) else None
        sec.summary_rows.append(
            (
                f"(d) wall of {hi} platforms ÷ wall of {lo}",
                f"**{ratio:.1f}×**" if ratio else "n/a (timeout)",
                "≤ 10×",
                verdict(ratio <= 10 if ratio else False),
            )
        )
    b = sec.body
    b.append(
        f"`conformance run --config FILE --output-dir DIR`, FILE listing N `[[platform]]` "
        f"tables `p01`…`pN` cycling over the six reference profiles "
        f"({', '.join(profile_names())}), `seed = {SEED}`, default `max_examples` (20); "
        f"each subprocess capped at {opts.timeout:.0f} s. One platform runs in the main "
        "process; several run in a pool of one worker process per core."
    )
    b.append("")
    b.append(
        "| platforms | run | wall | CPU (user+sys) | CPU ÷ wall | exit | peak RSS, process "
        "tree | largest process | wall per platform | load |"
    )
    b.append("|---|---|---|---|---|---|---|---|---|---|")
    for count in counts:
        for i, m in enumerate(rows.get(count, []), 1):
            busy = f"{m.cpu / m.wall:.2f}" if m.cpu is not None and m.wall else "n/a"
            b.append(
                f"| {count} | {i} | {'timeout' if m.timed_out else secs(m.wall)} | "
                f"{cpu_s(m.cpu)} | {busy} | {m.rc} | {mib(m.tree_peak)} | "
                f"{mib(m.largest)} | {'—' if m.timed_out else secs(m.wall / count)} | "
                f"{m.load_before:.2f} |"
            )
    cpu_per = {
        c: median([m.cpu / c for m in rows.get(c, []) if m.cpu and not m.timed_out]) for c in counts
    }
    if all(v == v for v in cpu_per.values()):
        b.append("")
        b.append(
            "CPU seconds per platform (median): "
            + ", ".join(f"{c} platform{'s' if c > 1 else ''}: {cpu_per[c]:.2f} s" for c in counts)
            + f". With {os.cpu_count()} cores the wall of a many-platform run cannot go below "
            "its CPU seconds ÷ cores: the ratio to the single platform is bounded by the work, "
            "not by scheduling."
        )
        cpu_hi = median([m.cpu for m in rows.get(hi, []) if m.cpu and not m.timed_out])
        if hi != lo and w_lo and cpu_hi == cpu_hi:
            floor = cpu_hi / (os.cpu_count() or 1)
            b.append(
                f"For {hi} platforms: {secs(cpu_hi)} of CPU ÷ {os.cpu_count()} cores = "
                f"{secs(floor)} at the very least, i.e. at least {floor / w_lo:.1f}× the "
                f"{lo}-platform wall ({secs(w_lo)}) even with perfect parallelism and an idle "
                "machine."
            )
    return sec
