"""(f) A store across the internet: reads side by side (`--connections`) against a slow target."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.common import (
    PROFILE_B,
    Section,
    cpu_s,
    median,
    secs,
)
from bench.measure import Measured
from bench.part_b import run_suite_on

LATENCY_MS = 20.0


def part_f(opts: argparse.Namespace, work: Path) -> Section:
    sec = Section(
        "f", f"(f) A remote-like target ({LATENCY_MS:.0f} ms per answer): `--connections` 1 vs 4"
    )
    budgets = (0, opts.examples)
    rows: dict[tuple[int, int], list[Measured]] = {}
    for rep in range(opts.reps):
        for examples in budgets:
            for connections in (1, 4):
                m, _ = run_suite_on(
                    PROFILE_B,
                    examples,
                    work,
                    f"f-{examples}-{connections}-{rep}",
                    timeout=opts.timeout,
                    latency_ms=LATENCY_MS,
                    extra=("--connections", str(connections)),
                )
                rows.setdefault((examples, connections), []).append(m)
                sec.loads += [m.load_before, m.load_after]
                print(
                    f"  (f) budget {examples}, --connections {connections}, run {rep + 1}: "
                    f"{m.wall:.2f} s, rc {m.rc}",
                    flush=True,
                )

    def wall(examples: int, connections: int) -> float:
        return median([m.wall for m in rows[(examples, connections)] if not m.timed_out])

    for examples in budgets:
        one, four = wall(examples, 1), wall(examples, 4)
        what = "probes only" if examples == 0 else f"budget {examples}"
        sec.summary_rows.append(
            (
                f"(f) {PROFILE_B} at {LATENCY_MS:.0f} ms per answer, {what}: "
                "`--connections 4` vs `1`",
                f"{secs(four)} vs {secs(one)} (saves {secs(one - four)}, "
                f"{(one - four) / one * 100:.0f}%)",
                "—",
                "",
            )
        )
    b = sec.body
    b.append(
        f"`conformance serve --platform {PROFILE_B} --latency {LATENCY_MS:.0f}` (every answer "
        "waits that long, without blocking the others, as a store across the internet would), "
        "then the suite as in (b) with `--connections 1` (every request alone) and "
        "`--connections 4` (independent reads side by side: list pages and filters, other "
        "orders' lists, the auth and unknown-id reads). Writes, lifecycle sequences, generated "
        "inputs and the state machine stay one request at a time, so the saving is the reads' "
        "share of the run."
    )
    b.append("")
    b.append("| examples | --connections | run | wall | CPU (user+sys) | exit |")
    b.append("|---|---|---|---|---|---|")
    for (examples, connections), ms in sorted(rows.items()):
        for i, m in enumerate(ms, 1):
            b.append(
                f"| {examples} | {connections} | {i} | {secs(m.wall)} | {cpu_s(m.cpu)} | {m.rc} |"
            )
    return sec
