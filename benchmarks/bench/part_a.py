"""(a) The default `conformance run` over the six reference platforms."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.common import (
    SEED,
    Section,
    child_env,
    cpu_s,
    matrix_durations,
    median,
    mib,
    secs,
    suite_cmd,
    verdict,
)
from bench.measure import Measured, measure


def part_a(opts: argparse.Namespace, work: Path) -> Section:
    sec = Section("a", "(a) Default `conformance run` over the six reference platforms")
    imports = measure(
        [sys.executable, "-c", "import conformance.cli, conformance.engine"],
        cwd=work,
        log=work / "a-import.log",
        timeout=120,
        env=child_env(),
    )
    runs: list[Measured] = []
    durations: list[dict[str, float]] = []
    for i in range(opts.reps):
        out = work / f"a-{i}"
        m = measure(
            suite_cmd("--seed", str(SEED), "--output-dir", str(out)),
            cwd=work,
            log=work / f"a-{i}.log",
            timeout=opts.timeout,
            env=child_env(),
        )
        runs.append(m)
        durations.append(matrix_durations(out))
        sec.loads += [m.load_before, m.load_after]
        print(
            f"  (a) run {i + 1}/{opts.reps}: {m.wall:.2f} s, rc {m.rc}, "
            f"tree peak {mib(m.tree_peak)}, load {m.load_before:.2f}",
            flush=True,
        )
    ok_runs = [m for m in runs if not m.timed_out]
    wall = median([m.wall for m in ok_runs])
    peak = max((m.tree_peak or 0 for m in ok_runs), default=0) or None
    largest = max((m.largest or 0 for m in ok_runs), default=0) or None
    sec.summary_rows += [
        (
            f"(a) default run, 6 reference platforms: wall (median of {len(ok_runs)})",
            secs(wall),
            "≤ 15 s",
            verdict(wall <= 15 if ok_runs else None),
        ),
        (
            "(a) default run: peak memory (process tree, max over runs)",
            f"{mib(peak)} (largest process {mib(largest)})",
            "—",
            "",
        ),
    ]
    b = sec.body
    b.append(
        f"`{sys.executable} -m conformance run --seed {SEED} --output-dir DIR` "
        f"({opts.reps} runs, default `--max-examples` 20; two worker processes, each "
        "platform served by its own uvicorn thread inside its worker)."
    )
    b.append("")
    b.append(
        "| run | wall | CPU (user+sys) | exit | peak RSS, process tree | largest process "
        "| load (1 min) |"
    )
    b.append("|---|---|---|---|---|---|---|")
    for i, m in enumerate(runs, 1):
        b.append(
            f"| {i} | {'timeout' if m.timed_out else secs(m.wall)} | {cpu_s(m.cpu)} | "
            f"{m.rc} | {mib(m.tree_peak)} | {mib(m.largest)} | {m.load_before:.2f} |"
        )
    if durations and any(durations):
        names = list(durations[0])
        b.append("")
        b.append(
            "Where the time goes: each platform's own duration (`provenance.durationSeconds` "
            "of its matrix, median over the runs); the two workers share these, so the wall "
            "is about their sum ÷ 2 plus start-up. Interpreter start-up and imports alone "
            f"(`import conformance.cli, conformance.engine`): {secs(imports.wall)}."
        )
        b.append("")
        b.append("| platform | duration (median) |")
        b.append("|---|---|")
        total = 0.0
        for name in names:
            value = median([d[name] for d in durations if name in d])
            total += value
            b.append(f"| {name} | {secs(value)} |")
        b.append(f"| **sum** | **{secs(total)}** |")
    return sec
