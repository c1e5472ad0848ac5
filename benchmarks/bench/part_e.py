"""(e) The many-platform run split into shards (CI matrix jobs), merged by `conformance matrix`."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.common import (
    Section,
    child_env,
    cpu_s,
    mib,
    secs,
    suite_cmd,
    verdict,
)
from bench.measure import Measured, measure
from bench.part_d import many_config

SHARDS = 4
STRICT = "failing,unsupported"  # a gate that fails on the reference platforms, to compare a "fail"


def matrix_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance", "matrix", *args]


def cells(dirs: Sequence[Path]) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """(platform, operation) → (verdict, reasons) over the matrices in `dirs`."""
    found: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.json")):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
                data = json.loads(path.read_text("utf-8"))
                name = data["platform"]["name"]
                for op, cell in data["operations"].items():
                    found[(name, op)] = (str(cell["status"]), tuple(map(str, cell["reasons"])))
    return found


def part_e(opts: argparse.Namespace, work: Path) -> Section:
    count = max(int(c) for c in opts.counts.split(",") if c.strip())
    sec = Section("e", f"(e) The {count}-platform run in {SHARDS} shards, merged into one matrix")
    cfg = work / f"e-{count}.toml"
    many_config(cfg, count)

    def run(cmd: list[str], name: str) -> Measured:
        m = measure(cmd, cwd=work, log=work / f"{name}.log", timeout=opts.timeout, env=child_env())
        sec.loads += [m.load_before, m.load_after]
        print(f"  (e) {name}: {m.wall:.2f} s, rc {m.rc}", flush=True)
        return m

    whole = run(suite_cmd("--config", str(cfg), "--output-dir", str(work / "e-whole")), "whole")
    shards = [
        run(
            suite_cmd(
                "--config",
                str(cfg),
                "--shard",
                f"{i}/{SHARDS}",
                "--output-dir",
                str(work / f"e-shard-{i}"),
            ),
            f"shard-{i}",
        )
        for i in range(1, SHARDS + 1)
    ]
    shard_dirs = [work / f"e-shard-{i}" / "capability_matrices" for i in range(1, SHARDS + 1)]
    whole_dir = [work / "e-whole" / "capability_matrices"]
    merged = run(
        matrix_cmd(
            *map(str, shard_dirs),
            "--output",
            str(work / "e-merged.html"),
            "--summary",
            str(work / "e-merged.md"),
        ),
        "merge",
    )
    strict_merged = run(
        matrix_cmd(
            *map(str, shard_dirs), "--output", str(work / "e-strict.html"), "--fail-on", STRICT
        ),
        "merge-strict",
    )
    strict_whole = run(
        matrix_cmd(
            *map(str, whole_dir), "--output", str(work / "e-whole-strict.html"), "--fail-on", STRICT
        ),
        "whole-strict",
    )
    per_shard = [sorted({p for p, _ in cells([d])}) for d in shard_dirs]
    union = [p for names in per_shard for p in names]
    disjoint = len(union) == len(set(union))
    c_whole, c_merged = cells(whole_dir), cells(shard_dirs)
    equal = sum(1 for key, value in c_whole.items() if c_merged.get(key) == value)
    same_cells = bool(c_whole) and c_whole == c_merged
    longest = max((m.wall for m in shards), default=float("nan"))
    page = (work / "e-merged.html").is_file() and (work / "e-merged.md").is_file()
    gate_default = (whole.rc, merged.rc)
    gate_strict = (strict_whole.rc, strict_merged.rc)
    ok = (
        disjoint
        and len(set(union)) == count
        and same_cells
        and page
        and gate_default[0] == gate_default[1]
        and gate_strict[0] == gate_strict[1]
    )

    def gate(rc: int | None) -> str:
        return {0: "pass", 1: "fail"}.get(rc if rc is not None else -1, f"exit {rc}")

    sec.summary_rows += [
        (
            f"(e) {count} platforms in {SHARDS} shards (one CI job each): longest shard vs "
            "the single run",
            f"{secs(longest)} vs {secs(whole.wall)} = **{longest / whole.wall:.2f}×**",
            "—",
            "",
        ),
        (
            "(e) shards merged by `conformance matrix`: one page, one verdict, equal to the "
            "single run",
            f"{len(set(union))}/{count} platforms once each; {equal}/{len(c_whole)} cells equal; "
            f"gate {gate(merged.rc)} = {gate(whole.rc)}, strict gate {gate(strict_merged.rc)} = "
            f"{gate(strict_whole.rc)}",
            "same matrix and verdict",
            verdict(ok),
        ),
    ]
    b = sec.body
    b.append(
        f"The config of (d) with {count} platforms, run once whole and once as {SHARDS} jobs "
        f"(`--shard I/{SHARDS}`, here one after the other on this machine: in CI they are "
        f"{SHARDS} matrix jobs on {SHARDS} runners, so the longest shard is the wall the "
        "pipeline waits for). Then `conformance matrix` merges the four "
        "`capability_matrices/` directories into one HTML page, one Markdown summary and one "
        f"exit code. The gate is compared twice: the default (`failing` fails) and a strict "
        f"`--fail-on {STRICT}`, which the reference platforms fail, so both a pass and a fail "
        "are compared."
    )
    b.append("")
    b.append("| job | platforms | wall | CPU (user+sys) | exit | peak RSS, process tree |")
    b.append("|---|---|---|---|---|---|")
    b.append(
        f"| whole run | {count} | {secs(whole.wall)} | {cpu_s(whole.cpu)} | {whole.rc} | "
        f"{mib(whole.tree_peak)} |"
    )
    for i, (m, names) in enumerate(zip(shards, per_shard, strict=True), 1):
        b.append(
            f"| shard {i}/{SHARDS} | {len(names)} | {secs(m.wall)} | {cpu_s(m.cpu)} | {m.rc} | "
            f"{mib(m.tree_peak)} |"
        )
    for label, m in (
        ("merge (`conformance matrix`, 4 dirs)", merged),
        (f"merge, `--fail-on {STRICT}`", strict_merged),
        (f"whole run's matrices, `--fail-on {STRICT}`", strict_whole),
    ):
        b.append(
            f"| {label} | {count} | {secs(m.wall)} | {cpu_s(m.cpu)} | {m.rc} | {mib(m.tree_peak)} |"
        )
    b.append("")
    once = disjoint and len(set(union)) == count
    b.append(
        f"Each platform in exactly one shard: {'yes' if once else 'no'} "
        f"({', '.join(str(len(n)) for n in per_shard)} platforms). Verdict and reasons of every "
        f"(platform, operation) cell, merged shards vs the whole run: {equal}/{len(c_whole)} "
        f"equal. Merged page and summary written: {'yes' if page else 'no'}."
    )
    return sec
