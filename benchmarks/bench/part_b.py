"""(b) The suite vs `schemathesis run` on one platform, and the seeded defects each one finds."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import (
    PROFILE_B,
    SEED,
    Section,
    child_env,
    median,
    new_token,
    reference_server,
    secs,
    st_cmd,
    suite_cmd,
    verdict,
)
from bench.measure import Measured, measure
from conformance import contract
from conformance.reference.server import defect_catalogue


def st_failures(report: Path) -> set[tuple[str, str]] | None:
    """(failure code, 'METHOD /path') pairs of a schemathesis JSON report."""
    try:
        data = json.loads(report.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    pairs = set()
    for failure in data.get("failures", []):
        for op in failure.get("operations", []):
            pairs.add((f"{failure.get('code')} {failure.get('title')}", op))
    return pairs


def st_cases(report: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads(report.read_text("utf-8"))["test_cases"]["generated"])
    return None


def suite_cell(out: Path, platform: str, op: str) -> tuple[str, list[str]] | None:
    path = out / "capability_matrices" / f"{platform}.json"
    try:
        cell = json.loads(path.read_text("utf-8"))["operations"][op]
    except (OSError, ValueError, KeyError):
        return None
    return str(cell.get("status")), [str(r) for r in cell.get("reasons", [])]


def op_key(op_id: str) -> str:
    op = contract.operation(op_id)
    return f"{op.method} {op.path}"


def run_suite_on(
    profile: str,
    examples: int,
    work: Path,
    tag: str,
    defects: Sequence[str] = (),
    timeout: float = 300,
    latency_ms: float = 0,
    extra: Sequence[str] = (),
) -> tuple[Measured, Path]:
    token = new_token()
    out = work / f"{tag}-out"
    cfg = work / "b-suite.toml"
    if not cfg.exists():
        cfg.write_text("schemathesis = false\n", "utf-8")
    with reference_server(profile, token, work, defects, latency_ms) as url:
        m = measure(
            suite_cmd(
                *extra,
                "--base-url",
                url,
                "--platform",
                profile,
                "--allow-writes",
                "--config",
                str(cfg),
                "--max-examples",
                str(examples),
                "--seed",
                str(SEED),
                "--output-dir",
                str(out),
            ),
            cwd=work,
            log=work / f"{tag}.log",
            timeout=timeout,
            env=child_env(CONFORMANCE_TOKEN=token),
        )
    return m, out


def run_st_on(
    profile: str,
    examples: int,
    work: Path,
    tag: str,
    defects: Sequence[str] = (),
    timeout: float = 300,
) -> tuple[Measured, Path]:
    token = new_token()
    report = work / f"{tag}.json"
    with reference_server(profile, token, work, defects) as url:
        m = measure(
            st_cmd(url, token, examples, report),
            cwd=work,
            log=work / f"{tag}.log",
            timeout=timeout,
            env=child_env(),
        )
    return m, report


def part_b(opts: argparse.Namespace, work: Path) -> Section:
    n = opts.examples
    sec = Section(
        "b", f"(b) One platform ({PROFILE_B}): this suite vs `schemathesis run`, budget {n}"
    )
    suite_runs: list[Measured] = []
    st_runs: list[Measured] = []
    baselines: dict[str, set[tuple[str, str]]] = {}
    cases: list[int] = []
    for i in range(opts.reps):
        m, _ = run_suite_on(PROFILE_B, n, work, f"b-suite-{i}")
        suite_runs.append(m)
        s, report = run_st_on(PROFILE_B, n, work, f"b-st-{i}")
        st_runs.append(s)
        found = st_failures(report)
        if found is not None:
            baselines.setdefault(PROFILE_B, set()).update(found)
        if (c := st_cases(report)) is not None:
            cases.append(c)
        sec.loads += [m.load_before, s.load_before, s.load_after]
        print(
            f"  (b) rep {i + 1}/{opts.reps}: suite {m.wall:.2f} s (rc {m.rc}), "
            f"schemathesis {s.wall:.2f} s (rc {s.rc})",
            flush=True,
        )
    suite_wall = median([m.wall for m in suite_runs if not m.timed_out])
    st_wall = median([m.wall for m in st_runs if not m.timed_out])
    ratio = suite_wall / st_wall if st_wall else float("nan")

    # Seeded defects: one fresh server per (defect, tool).
    catalogue = defect_catalogue()
    for profile in sorted({d["profile"] for d in catalogue.values()} - set(baselines)):
        _, report = run_st_on(profile, n, work, f"b-st-baseline-{profile}")
        baselines[profile] = st_failures(report) or set()

    def detect(name: str) -> dict[str, Any]:
        d = catalogue[name]
        m, out = run_suite_on(d["profile"], n, work, f"b-defect-suite-{name}", [name])
        cell = suite_cell(out, d["profile"], d["operation"])
        s, report = run_st_on(d["profile"], n, work, f"b-defect-st-{name}", [name])
        failures = st_failures(report)
        new = sorted((failures or set()) - baselines.get(d["profile"], set()))
        on_op = [code for code, op in new if op == op_key(d["operation"])]
        print(f"  (b) defect {name}: suite {cell}, schemathesis {on_op or '-'}", flush=True)
        return {
            "name": name,
            "defect": d,
            "suite_cell": cell,
            "suite_found": cell is not None and cell[0] == d["verdict"] and d["reason"] in cell[1],
            "suite_rc": m.rc,
            "st_rc": s.rc,
            "st_ok": failures is not None,
            "st_on_op": on_op,
            "st_elsewhere": [f"{c} @ {o}" for c, o in new if o != op_key(d["operation"])],
            "st_found": bool(on_op),
            "suite_wall": m.wall,
            "st_wall": s.wall,
        }

    with ThreadPoolExecutor(max_workers=opts.jobs) as pool:
        results = list(pool.map(detect, list(catalogue)))
    suite_found = [r for r in results if r["suite_found"]]
    st_found = [r for r in results if r["st_found"]]
    st_only = [r["name"] for r in st_found if not r["suite_found"]]
    total = len(results)
    sec.summary_rows += [
        (
            f"(b) {PROFILE_B}, budget {n}: suite wall vs schemathesis wall (median)",
            f"{secs(suite_wall)} vs {secs(st_wall)} = **{ratio:.2f}×**",
            "< 1× (faster)",
            verdict(ratio < 1 if ratio == ratio else None),
        ),
        (
            "(b) seeded defects found: suite vs schemathesis",
            f"{len(suite_found)}/{total} vs {len(st_found)}/{total}",
            "every defect schemathesis finds",
            verdict(not st_only) + (f" (missed: {', '.join(st_only)})" if st_only else ""),
        ),
    ]
    b = sec.body
    b.append(
        f"Suite: `conformance run --base-url URL --platform {PROFILE_B} --allow-writes "
        f"--max-examples {n} --seed {SEED}` with a config saying `schemathesis = false` "
        "(the suite's own probes, schema mutations and state machine only)."
    )
    b.append(
        f"Schemathesis: `schemathesis run schemas/openapi.yaml --url URL -H 'Authorization: "
        f"Bearer …' --max-examples {n} --seed {SEED} --generation-database none "
        "--checks all` (all phases: examples, coverage, fuzzing, stateful). Each run gets "
        "a fresh `conformance serve` process of the same profile; the server's start-up "
        "is not timed."
    )
    b.append("")
    b.append("| rep | suite wall | suite exit | schemathesis wall | schemathesis exit | load |")
    b.append("|---|---|---|---|---|---|")
    for i, (m, s) in enumerate(zip(suite_runs, st_runs, strict=True), 1):
        b.append(
            f"| {i} | {secs(m.wall)} | {m.rc} | {secs(s.wall)} | {s.rc} | {m.load_before:.2f} |"
        )
    if cases:
        b.append("")
        b.append(
            f"Schemathesis generated {int(median(cases))} test cases per run (median); the "
            "suite's request count for the same run is in part (c)."
        )
    b.append("")
    b.append(
        "False positives schemathesis reports on the **clean** servers (the baseline "
        "subtracted below):"
    )
    b.append("")
    for profile, pairs in sorted(baselines.items()):
        listed = "; ".join(f"{c} @ `{o}`" for c, o in sorted(pairs)) or "none"
        b.append(f"- {profile}: {listed}")
    b.append("")
    b.append(
        "Seeded defects (one fresh server per defect and tool). Suite: found when the "
        "defect's operation has the expected verdict and reason in the matrix. "
        "Schemathesis: found when its report names a failure on the defect's operation "
        "that the same command against the clean server does not report there."
    )
    b.append("")
    b.append(
        "| defect | profile | operation | expected | suite says | suite | "
        "schemathesis (new failures on the operation) | schemathesis |"
    )
    b.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        d = r["defect"]
        cell = r["suite_cell"]
        said = "no matrix" if cell is None else f"{cell[0]} ({', '.join(cell[1]) or '—'})"
        st_said = ", ".join(r["st_on_op"]) or ("no report" if not r["st_ok"] else "—")
        b.append(
            f"| `{r['name']}` | {d['profile']} | {d['operation']} | {d['verdict']} "
            f"({d['reason']}) | {said} | {'✔' if r['suite_found'] else '✘'} | {st_said} | "
            f"{'✔' if r['st_found'] else '✘'} |"
        )
    b.append(
        f"| **total** | | | | | **{len(suite_found)}/{total}** | | **{len(st_found)}/{total}** |"
    )
    elsewhere = [(r["name"], r["st_elsewhere"]) for r in results if r["st_elsewhere"]]
    if elsewhere:
        b.append("")
        b.append("New schemathesis failures on *other* operations (not counted):")
        b.append("")
        for name, items in elsewhere:
            b.append(f"- `{name}`: " + "; ".join(items))
    return sec
