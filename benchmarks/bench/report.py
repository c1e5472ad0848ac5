"""The Markdown report: the machine, the summary table and every part's detail."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform as pyplatform
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import conformance
from bench.common import (
    PKG_PARENT,
    SEED,
    Section,
    load_range,
)


def machine_facts() -> list[str]:
    cpu = pyplatform.processor() or pyplatform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    la = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores" + (f", {mem} RAM" if mem else ""),
        f"- OS: {pyplatform.platform()}",
        f"- Python {pyplatform.python_version()} ({sys.executable})",
        f"- returns-conformance {getattr(conformance, '__version__', '?')} (from {PKG_PARENT}), "
        f"schemathesis {version('schemathesis')}, httpx {version('httpx')}, "
        f"hypothesis {version('hypothesis')}, uvicorn {version('uvicorn')}",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"- load average at the end (1/5/15 min): {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}",
    ]


def render(sections: Sequence[Section], opts: argparse.Namespace, started: float) -> str:
    lines = ["# Benchmarks: speed and scale of the Returns conformance suite", ""]
    lines.append(
        "Produced by `python benchmarks/run.py"
        + (" --quick" if opts.quick else "")
        + (f" --only {opts.only}" if opts.only else "")
        + f"` in {(time.perf_counter() - started) / 60:.1f} min; see "
        "[README.md](README.md) for how to reproduce it and what each number means."
    )
    lines.append("")
    lines.append("## Machine")
    lines.append("")
    lines += machine_facts()
    lines.append(
        f"- repetitions: {opts.reps} (medians reported); example budget of (b) and "
        f"(c): {opts.examples}; seed {SEED}"
    )
    lines.append(
        "- 1-minute load average during each part: "
        + ", ".join(f"({s.key}) {load_range(s.loads)}" for s in sections)
    )
    cores = os.cpu_count() or 1
    # The benchmark's own runs keep up to `cores` processes busy (and the 1-minute average lags),
    # so only a load above cores + 1 says that other processes were competing for the CPU.
    busy = [s.key for s in sections if any(v > cores + 1 for v in s.loads if v == v)]
    if busy:
        lines.append(
            f"- **the machine was busy**: the 1-minute load average exceeded {cores + 1} "
            f"({cores} cores, plus one for the benchmark's own lag) during part(s) "
            f"{', '.join(busy)}: other processes were running. Wall times are then pessimistic, "
            "multi-process runs most of all: a run's CPU ÷ wall below the number of cores shows "
            "how much of the machine it actually got."
        )
    lines.append("")
    lines.append("## Summary")
    lines.append("")
    lines.append("| measurement | result | target | |")
    lines.append("|---|---|---|---|")
    for s in sections:
        for row in s.summary_rows:
            lines.append("| " + " | ".join(row) + " |")
    for s in sections:
        lines += ["", f"## {s.title}", ""]
        lines += s.body
    return "\n".join(lines) + "\n"
