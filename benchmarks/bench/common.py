"""What every part shares: paths, the subprocess environment, a reference server in its own
process, number formatting and the `Section` a part returns."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import conformance

HERE = Path(__file__).resolve().parent.parent  # benchmarks/
ROOT = HERE.parent

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
