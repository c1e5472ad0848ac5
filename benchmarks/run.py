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
    `--connections 1` and `--connections 4`, probes only and with generated testing.

Prints a Markdown report and writes it to benchmarks/RESULTS.md (see benchmarks/README.md for
what every number means). Every measured command runs in a fresh subprocess in a temporary
directory: nothing is written into the repository except the results file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import inspect
import itertools
import json
import os
import platform as pyplatform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

try:  # the installed package (pip install .) ...
    import conformance
except ImportError:  # ... or the checkout this script lives in
    sys.path.insert(0, str(ROOT))
    import conformance

import httpx  # noqa: E402

from conformance import contract  # noqa: E402
from conformance.reference.profile import profile_names  # noqa: E402
from conformance.reference.server import defect_catalogue  # noqa: E402

PKG_PARENT = Path(conformance.__file__).resolve().parent.parent
SEED = 2026
PROFILE_B = "full-manual"  # the one platform of parts (b) and (c)
GIB = 1024**3
ST_MAIN = (
    "import sys; from schemathesis.cli import schemathesis; "
    "sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())"
)


def openapi_path() -> Path:
    """schemas/openapi.yaml of the checkout, else the copy shipped inside the package."""
    for candidate in (
        ROOT / "schemas" / "openapi.yaml",
        Path(conformance.__file__).resolve().parent / "_schemas" / "openapi.yaml",
    ):
        if candidate.is_file():
            return candidate
    sys.exit("benchmarks: schemas/openapi.yaml not found (run from a clone of the repository)")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every subprocess: the same `conformance` package as this script."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(PKG_PARENT) + (os.pathsep + path if path else "")
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def new_token() -> str:
    """A throwaway bearer token for one reference server (never starts with a dash)."""
    return "bench-" + secrets.token_urlsafe(18)


def load1() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


# --------------------------------------------------------------------------------------------
# Measuring one subprocess: wall time, peak RSS of its process tree, largest single process
# --------------------------------------------------------------------------------------------

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss(root: int) -> int | None:
    """Summed resident memory (bytes) of `root` and all its descendants, from /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()
        pid = int(entry.name)
        parent[pid] = int(fields[1])  # field 4: ppid
        rss[pid] = int(fields[21]) * PAGE  # field 24: rss in pages
    if root not in rss:
        return None
    total, todo = 0, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


@dataclass
class Measured:
    wall: float
    rc: int | None
    timed_out: bool
    tree_peak: int | None  # bytes, sampled every 50 ms (sum over the process tree)
    largest: int | None  # bytes, ru_maxrss of the largest process of the tree (wait4)
    cpu: float | None  # seconds, user + system of the process and its waited-for descendants
    log: Path
    load_before: float
    load_after: float

    def tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


def measure(
    cmd: Sequence[str], *, cwd: Path, log: Path, timeout: float, env: dict[str, str]
) -> Measured:
    """Run `cmd`, timing it and sampling the RSS of its whole process tree."""
    load_before = load1()
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        done = threading.Event()
        waited: dict[str, Any] = {}

        def waiter() -> None:
            _, status, usage = os.wait4(proc.pid, 0)
            waited["end"] = time.perf_counter()
            waited["status"] = status
            waited["usage"] = usage
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        peak: int | None = None
        timed_out = False
        while not done.wait(0.05):
            sample = tree_rss(proc.pid)
            if sample is not None:
                peak = max(peak or 0, sample)
            if time.perf_counter() - started > timeout:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                done.wait(30)
                break
        proc.returncode = os.waitstatus_to_exitcode(waited["status"]) if "status" in waited else -9
    wall = waited.get("end", time.perf_counter()) - started
    largest = cpu = None
    if "usage" in waited:
        cpu = waited["usage"].ru_utime + waited["usage"].ru_stime
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB here
        largest = waited["usage"].ru_maxrss * scale
    return Measured(
        wall,
        None if timed_out else proc.returncode,
        timed_out,
        peak,
        largest,
        cpu,
        log,
        load_before,
        load1(),
    )


# --------------------------------------------------------------------------------------------
# A reference server in its own process (`conformance serve`)
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def reference_server(
    profile: str, token: str, work: Path, defects: Sequence[str] = (), latency_ms: float = 0
) -> Iterator[str]:
    """`conformance serve` on a free loopback port, in its own process; yields the base URL."""
    for _attempt in range(3):
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "conformance",
            "serve",
            "--platform",
            profile,
            "--port",
            str(port),
            f"--token={token}",
        ]
        for name in defects:
            cmd += ["--defect", name]
        if latency_ms:
            cmd += ["--latency", str(latency_ms)]
        log = open(work / f"serve-{profile}-{port}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            cmd,
            cwd=work,
            env=child_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    ready = True
                    break
            except OSError:
                time.sleep(0.05)
        if not ready:
            proc.kill()
            proc.wait()
            log.close()
            continue
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        return
    raise RuntimeError(f"the reference server {profile} did not start (see {work})")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.0f} MiB"


def secs(value: float) -> str:
    return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


def cpu_s(value: float | None) -> str:
    return "n/a" if value is None else secs(value)


def load_range(values: Sequence[float]) -> str:
    vals = [v for v in values if v == v]
    return f"{min(vals):.2f}–{max(vals):.2f}" if vals else "n/a"


def suite_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "conformance", "run", *args]


def st_cmd(url: str, token: str, examples: int, report: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        ST_MAIN,
        "run",
        str(openapi_path()),
        "--url",
        url,
        "-H",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(examples),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--checks",
        "all",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]


def matrix_durations(out: Path) -> dict[str, float]:
    """durationSeconds per platform, from the matrices a run wrote."""
    found = {}
    for path in sorted((out / "capability_matrices").glob("*.json")):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            data = json.loads(path.read_text("utf-8"))
            found[
                data["platform"]["name"]
                if isinstance(data["platform"], dict)
                else str(data["platform"])
            ] = float(data["provenance"]["durationSeconds"])
    return found


@dataclass
class Section:
    key: str
    title: str
    summary_rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


# --------------------------------------------------------------------------------------------
# (a) the default run over the six reference platforms
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# (b) suite vs schemathesis on one platform; seeded defects found by each
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# (c) requests per second: the suite (inside Target.call) vs a bare httpx loop
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# (d) 1, 10 and 50 platforms in one run
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# (e) the many-platform run split into shards (CI matrix jobs), merged by `conformance matrix`
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# (f) a store across the internet: reads side by side (--connections) against a slow target
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


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
        help="comma-separated subset of a,b,c,d,e,f (default: all)",
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
        help="defect detections of (b) run this many at a time (default 2)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="cap on each measured run of (a) and (d), in seconds (default 900)",
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
    parts = [p.strip() for p in opts.only.split(",") if p.strip()] or list("abcdef")
    unknown = sorted(set(parts) - set("abcdef"))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}: choose from a, b, c, d, e, f")
    runners: dict[str, Callable[[argparse.Namespace, Path], Section]] = {
        "a": part_a,
        "b": part_b,
        "c": part_c,
        "d": part_d,
        "e": part_e,
        "f": part_f,
    }
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="conformance-bench-"))
    print(f"benchmarks: scratch directory {work}; load {load1():.2f}", flush=True)
    sections = []
    try:
        for key in "abcdef":
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
