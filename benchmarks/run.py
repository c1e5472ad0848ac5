#!/usr/bin/env python3
"""Speed and scale of the Returns conformance suite, measured on this machine (issue 7).

    python benchmarks/run.py                 # everything, 3 repetitions (about 15-20 minutes)
    python benchmarks/run.py --quick         # 1 repetition, smaller budgets (a few minutes)
    python benchmarks/run.py --only a,c      # some parts only

(a) the default `conformance run` over the six reference platforms: wall time, peak memory;
(b) one platform (full-manual) on the same reference server: this suite versus
    `schemathesis run schemas/openapi.yaml` at the same example budget (wall time, ratio), and
    the seeded defects (conformance/reference/defects.toml) each one finds;
(c) requests per second: the suite's requests, timed inside `Target.call`, versus a bare
    `httpx.Client` loop replaying the same requests (the ceiling);
(d) 1, 10 and 50 platforms in one run: wall time and peak memory, to show how cost grows;
(e) the 50-platform run split into 4 shards (`--shard I/4`, as CI matrix jobs would run it) and
    merged with `conformance matrix`: the longest shard's wall, and that the merged matrix and
    gate verdict equal the single run's;
(f) a remote-like target (the reference server answering after 20 ms): the suite's wall with
    `--connections 1` and `--connections 4`, probes only and with generated testing;
(g) the default run against one URL target with schemathesis on and off: wall time, and what
    the schemathesis stage finds that the suite's own checks do not (clean server, seeded defects).

Prints a Markdown report and writes it to benchmarks/RESULTS.md (see benchmarks/README.md for
what every number means). Every measured command runs in a fresh subprocess in a temporary
directory: nothing is written into the repository except the results file.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.common import HERE, Section, load1
from bench.part_a import part_a
from bench.part_b import part_b
from bench.part_c import part_c
from bench.part_d import part_d
from bench.part_e import part_e
from bench.part_f import part_f
from bench.part_g import part_g
from bench.report import render


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 repetition, budget 10, platform counts 1,10"
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="PARTS",
        help="comma-separated subset of a,b,c,d,e,f,g (default: all)",
    )
    parser.add_argument("--reps", type=int, help="repetitions per measurement (default 3)")
    parser.add_argument(
        "--examples", type=int, help="example budget of (b) and (c) for both tools (default 20)"
    )
    parser.add_argument("--counts", help="platform counts of (d) (default 1,10,50)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="defect detections of (b) and (g) run this many at a time (default 2)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="cap on each measured run of (a) and (d)-(g), in seconds (default 900)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE / "RESULTS.md",
        help="where the Markdown report goes (default benchmarks/RESULTS.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch directory (logs, matrices, reports)"
    )
    opts = parser.parse_args(argv)
    opts.reps = opts.reps or (1 if opts.quick else 3)
    opts.examples = opts.examples or (10 if opts.quick else 20)
    opts.counts = opts.counts or ("1,10" if opts.quick else "1,10,50")
    parts = [p.strip() for p in opts.only.split(",") if p.strip()] or list("abcdefg")
    unknown = sorted(set(parts) - set("abcdefg"))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from a, b, c, d, e, f, g")
    runners: dict[str, Callable[[argparse.Namespace, Path], Section]] = {
        "a": part_a,
        "b": part_b,
        "c": part_c,
        "d": part_d,
        "e": part_e,
        "f": part_f,
        "g": part_g,
    }
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="conformance-bench-"))
    print(f"benchmarks: scratch directory {work}; load {load1():.2f}", flush=True)
    sections = []
    try:
        for key in "abcdefg":
            if key in parts:
                print(f"part ({key}) ...", flush=True)
                sections.append(runners[key](opts, work))
    finally:
        if opts.keep:
            print(f"benchmarks: kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report = render(sections, opts, started)
    print()
    print(report)
    if not opts.no_write:
        opts.output.write_text(report, "utf-8")
        print(f"wrote {opts.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
