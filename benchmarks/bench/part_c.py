"""(c) Requests per second: the suite vs a bare httpx loop replaying the same requests."""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    PROFILE_B,
    SEED,
    Section,
    load1,
    median,
    new_token,
    reference_server,
    secs,
    verdict,
)


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any] | None
    content: bytes | None
    auth: str
    seconds: float
    stage: str
    status: int | None


def record_suite(
    profile: str, examples: int, work: Path, tag: str
) -> tuple[list[Recorded], float, list[tuple[str, float]]]:
    """Run the engine in this process against a server process, recording every request."""
    from conformance import config as cconfig
    from conformance import engine
    from conformance import target as ctarget

    records: list[Recorded] = []
    stage = ["connect"]
    marks: list[tuple[str, float]] = []
    original = ctarget.Target.call
    signature = inspect.signature(original)
    no_body = getattr(ctarget, "NO_BODY", object())

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        reply = original(self, *args, **kwargs)
        seconds = time.perf_counter() - started
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        body, raw = a.get("body", no_body), a.get("raw_body")
        content = json.dumps(body).encode() if body is not no_body else raw
        params = dict(a["params"]) if a.get("params") else None
        records.append(
            Recorded(
                a["method"],
                a["path"],
                params,
                content,
                str(a.get("auth")),
                seconds,
                stage[0],
                getattr(reply, "status", None),
            )
        )
        return reply

    def progress(_platform: str, label: str) -> None:
        stage[0] = label
        marks.append((label, time.perf_counter()))

    # Sub-stages of generated testing, when the module has them (names may change: optional).
    from conformance import generate as cgenerate

    patched: dict[str, Any] = {}
    for name in (
        "generated_list_params",
        "invalid_bodies",
        "generated_creates",
        "schemathesis_phase",
        "run_machine",
    ):
        fn = getattr(cgenerate, name, None)
        if not callable(fn):
            continue

        def sub(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
            outer = stage[0]
            progress("", f"generated testing: {_name}")
            try:
                return _fn(*args, **kwargs)
            finally:
                progress("", outer)

        patched[name] = fn
        setattr(cgenerate, name, sub)

    token = new_token()
    cfg = work / "c-suite.toml"
    cfg.write_text("schemathesis = false\n", "utf-8")
    here = Path.cwd()
    with reference_server(profile, token, work) as url:
        run_config = cconfig.build(
            base_url=url,
            platform=profile,
            token=token,
            allow_writes=True,
            output_dir=str(work / f"{tag}-out"),
            seed=SEED,
            config_file=str(cfg),
            max_examples=examples,
            connections=1,  # one request at a time, like the bare loop it is compared with
        )
        # A fresh run each repetition: nothing left over from the previous one in this process
        # (generated bodies are kept per process, for the many platforms of one run).
        from conformance.generate import strategies as cstrategies

        for cached in ("valid_bodies",):
            clear = getattr(getattr(cstrategies, cached, None), "cache_clear", None)
            if callable(clear):
                clear()
        ctarget.Target.call = call  # type: ignore[method-assign]
        os.chdir(work)  # Hypothesis' example database, if any, goes to the scratch directory
        try:
            started = time.perf_counter()
            marks.append(("connect", started))
            engine.run(run_config, progress)
            wall = time.perf_counter() - started
            marks.append(("end", time.perf_counter()))
        finally:
            ctarget.Target.call = original  # type: ignore[method-assign]
            for name, fn in patched.items():
                setattr(cgenerate, name, fn)
            os.chdir(here)
    return records, wall, marks


def replay(
    records: Sequence[Recorded], profile: str, work: Path
) -> tuple[float, Counter[bool], list[float]]:
    """The same requests through a bare httpx.Client loop against a fresh server."""
    token = new_token()
    same: Counter[bool] = Counter()
    with (
        reference_server(profile, token, work) as url,
        httpx.Client(
            base_url=url,
            timeout=10.0,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "bare-httpx-loop"},
        ) as client,
    ):
        started = time.perf_counter()
        statuses = []
        each: list[float] = []
        for r in records:
            one = time.perf_counter()
            headers = {}
            if r.auth == "valid":
                headers["Authorization"] = f"Bearer {token}"
            elif r.auth != "none":
                headers["Authorization"] = "Bearer not-the-token-0000"
            if r.content is not None:
                headers["Content-Type"] = "application/json"
            response = client.request(
                r.method, r.path, params=r.params, headers=headers, content=r.content
            )
            response.read()
            each.append(time.perf_counter() - one)
            statuses.append(response.status_code)
        seconds = time.perf_counter() - started
    for r, status in zip(records, statuses, strict=True):
        same[r.status == status] += 1
    return seconds, same, each


def part_c(opts: argparse.Namespace, work: Path) -> Section:
    n = opts.examples
    sec = Section(
        "c", f"(c) Requests per second: the suite vs a bare httpx loop ({PROFILE_B}, budget {n})"
    )
    reps: list[dict[str, Any]] = []
    for i in range(opts.reps):
        sec.loads.append(load1())
        records, wall, marks = record_suite(PROFILE_B, n, work, f"c-{i}")
        in_call = sum(r.seconds for r in records)
        bare, same, each = replay(records, PROFILE_B, work)
        sec.loads.append(load1())
        reps.append(
            {
                "n": len(records),
                "wall": wall,
                "in_call": in_call,
                "bare": bare,
                "same": same,
                "records": records,
                "marks": marks,
                "suite_p50": median([r.seconds for r in records]),
                "bare_p50": median(each),
            }
        )
        print(
            f"  (c) rep {i + 1}/{opts.reps}: {len(records)} requests, suite run {wall:.2f} s, "
            f"in Target.call {in_call:.2f} s, bare loop {bare:.2f} s",
            flush=True,
        )
    suite_rps = median([r["n"] / r["in_call"] for r in reps])
    bare_rps = median([r["n"] / r["bare"] for r in reps])
    e2e_rps = median([r["n"] / r["wall"] for r in reps])
    ratio = median([r["in_call"] / r["bare"] for r in reps])
    p50_ratio = median([r["suite_p50"] / r["bare_p50"] for r in reps])
    sec.summary_rows += [
        (
            "(c) requests/s: suite (time inside `Target.call`) vs bare httpx loop",
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
        "The suite runs in this process (`conformance.engine.run` for one URL target, "
        "`--allow-writes`, `schemathesis = false`, `--connections 1` so that it sends one "
        "request at a time like the loop it is compared with; nothing cached from the previous "
        "repetition) with `Target.call` wrapped to record "
        "each request (method, path, params, body, auth) and the time spent inside the call "
        "(request building, sending, reading, JSON parsing, redaction, evidence). The same "
        "requests are then replayed in order with a bare `httpx.Client` "
        "(`client.request(...)` and read the body) against a fresh server process of the "
        "same profile. The server is a separate `conformance serve` process in both cases. "
        "State-dependent answers may differ in the replay (ids of created returns, "
        "statuses); that does not matter for timing."
    )
    b.append("")
    b.append(
        "| rep | requests | suite run wall | inside `Target.call` | bare loop | "
        "per request: suite / bare | median latency: suite / bare | "
        "replay statuses equal |"
    )
    b.append("|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(reps, 1):
        b.append(
            f"| {i} | {r['n']} | {secs(r['wall'])} | {secs(r['in_call'])} "
            f"({1000 * r['in_call'] / r['n']:.2f} ms/req) | {secs(r['bare'])} "
            f"({1000 * r['bare'] / r['n']:.2f} ms/req) | {r['in_call'] / r['bare']:.2f}× | "
            f"{1000 * r['suite_p50']:.2f} / {1000 * r['bare_p50']:.2f} ms | "
            f"{r['same'][True]}/{r['n']} |"
        )
    # Where the time goes, by stage (from the median-wall repetition).
    rep = sorted(reps, key=lambda r: r["wall"])[len(reps) // 2]
    marks = rep["marks"]
    b.append("")
    b.append(
        "Where the time goes in one suite run (the median repetition), by stage: wall time "
        "of the stage, requests it sent, time inside `Target.call`, and the rest (the "
        "suite's own work: generating inputs, Hypothesis, validating answers against the "
        "schemas, judging, writing files)."
    )
    b.append("")
    b.append("| stage | wall | requests | inside `Target.call` | rest (suite CPU) |")
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
        f"**{secs(rep['in_call'])}** | **{secs(max(0.0, rep['wall'] - rep['in_call']))}** |"
    )
    methods = Counter(r.method for r in rep["records"])
    b.append("")
    b.append(
        "Requests by method: " + ", ".join(f"{k} {v}" for k, v in sorted(methods.items())) + "."
    )
    return sec
