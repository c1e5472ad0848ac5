"""(c) Requests per second: the suite's request path vs a bare httpx loop, on the same requests."""

from __future__ import annotations

import argparse
import itertools
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import PROFILE_B, Section, load1, median, secs, verdict
from bench.traffic import record_suite, replay_bare, replay_suite


def part_c(opts: argparse.Namespace, work: Path) -> Section:
    n = opts.examples
    sec = Section(
        "c", f"(c) Requests per second: the suite vs a bare httpx loop ({PROFILE_B}, budget {n})"
    )
    reps: list[dict[str, Any]] = []
    for i in range(opts.reps):
        sec.loads.append(load1())
        records, wall, marks = record_suite(PROFILE_B, n, work, f"c-{i}")
        suite = replay_suite(records, PROFILE_B, work)
        bare = replay_bare(records, PROFILE_B, work)
        sec.loads.append(load1())
        reps.append(
            {
                "n": len(records),
                "wall": wall,
                "wire": sum(r.seconds for r in records),
                "suite": suite.seconds,
                "bare": bare.seconds,
                "same": Counter(s == b for s, b in zip(suite.statuses, bare.statuses, strict=True)),
                "as_run": suite.same(records),
                "records": records,
                "marks": marks,
                "suite_p50": median(suite.each),
                "bare_p50": median(bare.each),
            }
        )
        print(
            f"  (c) rep {i + 1}/{opts.reps}: {len(records)} requests, suite run {wall:.2f} s; "
            f"replayed through Target.call {suite.seconds:.2f} s, bare loop {bare.seconds:.2f} s",
            flush=True,
        )
    suite_rps = median([r["n"] / r["suite"] for r in reps])
    bare_rps = median([r["n"] / r["bare"] for r in reps])
    e2e_rps = median([r["n"] / r["wall"] for r in reps])
    ratio = median([r["suite"] / r["bare"] for r in reps])
    p50_ratio = median([r["suite_p50"] / r["bare_p50"] for r in reps])
    sec.summary_rows += [
        (
            "(c) requests/s: the run's requests through `Target.call` vs a bare httpx loop",
            f"{suite_rps:.0f} vs {bare_rps:.0f} req/s: per request **{ratio:.2f}×** the bare loop",
            "≤ 2×",
            verdict(ratio <= 2),
        ),
        (
            "(c) median latency of one request: suite vs bare loop",
            f"{1000 * median([r['suite_p50'] for r in reps]):.2f} vs "
            f"{1000 * median([r['bare_p50'] for r in reps]):.2f} ms = {p50_ratio:.2f}×",
            "≤ 2×",
            verdict(p50_ratio <= 2),
        ),
        (
            "(c) requests/s of the whole suite run (requests ÷ run wall)",
            f"{e2e_rps:.0f} req/s ({int(median([r['n'] for r in reps]))} requests in "
            f"{secs(median([r['wall'] for r in reps]))})",
            "—",
            "",
        ),
    ]
    b = sec.body
    b.append(
        "The suite runs in this process (`conformance.engine.run_platform` for one URL target, "
        "`--allow-writes`, `schemathesis = false`, `--connections 1` so that it sends one "
        "request at a time like the loops it is compared with; nothing cached from the previous "
        "repetition) with a recording transport handed to its `Target` (`transport=`, httpx's "
        "own seam: nothing of the suite is patched): every request (method, path and query, "
        "body, which auth) and its time on the wire. The same requests are then replayed in "
        "order against two fresh server processes of the same profile: once through the "
        "suite's `Target.call` (request building, sending, reading with a size cap, JSON "
        "parsing, redaction, evidence; no retries) and once through a bare `httpx.Client` "
        "(`client.request(...)` and read the body). The server is a separate `conformance "
        "serve` process in every case."
    )
    b.append("")
    b.append(
        "| rep | requests | suite run wall | on the wire in the run | through `Target.call` | "
        "bare loop | per request: suite / bare | median latency: suite / bare | "
        "statuses: replays equal, as in the run |"
    )
    b.append("|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(reps, 1):
        b.append(
            f"| {i} | {r['n']} | {secs(r['wall'])} | {secs(r['wire'])} | {secs(r['suite'])} "
            f"({1000 * r['suite'] / r['n']:.2f} ms/req) | {secs(r['bare'])} "
            f"({1000 * r['bare'] / r['n']:.2f} ms/req) | {r['suite'] / r['bare']:.2f}× | "
            f"{1000 * r['suite_p50']:.2f} / {1000 * r['bare_p50']:.2f} ms | "
            f"{r['same'][True]}/{r['n']}, {r['as_run'][True]}/{r['n']} |"
        )
    # Where the time goes, by stage (from the median-wall repetition).
    rep = sorted(reps, key=lambda r: r["wall"])[len(reps) // 2]
    marks = rep["marks"]
    b.append("")
    b.append(
        "Where the time goes in one suite run (the median repetition), by stage: wall time "
        "of the stage, requests it sent, their time on the wire (from the transport's send to the "
        "end of the body), and the rest (the suite's own work: building requests and reading "
        "answers, generating inputs, Hypothesis, validating answers against the schemas, "
        "judging, writing files). The sub-stages of generated testing are labelled by wrapping "
        "the functions of `conformance.generate` (the engine reports whole stages only)."
    )
    b.append("")
    b.append("| stage | wall | requests | on the wire | rest (suite CPU) |")
    b.append("|---|---|---|---|---|")
    stages_used = {r.stage for r in rep["records"]}
    spans: dict[str, float] = {}
    for (label, start), (_, end) in itertools.pairwise(marks):
        spans[label] = spans.get(label, 0.0) + (end - start)
    for label, span in spans.items():
        if label in ("queued", "done") or (span < 0.005 and label not in stages_used):
            continue
        rs = [r for r in rep["records"] if r.stage == label]
        http = sum(r.seconds for r in rs)
        b.append(
            f"| {label} | {secs(span)} | {len(rs)} | {secs(http)} | {secs(max(0.0, span - http))} |"
        )
    b.append(
        f"| **total** | **{secs(rep['wall'])}** | **{rep['n']}** | "
        f"**{secs(rep['wire'])}** | **{secs(max(0.0, rep['wall'] - rep['wire']))}** |"
    )
    methods = Counter(r.method for r in rep["records"])
    b.append("")
    b.append(
        "Requests by method: " + ", ".join(f"{k} {v}" for k, v in sorted(methods.items())) + "."
    )
    return sec
