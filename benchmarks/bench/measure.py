"""Measuring one subprocess: wall time, CPU time, peak RSS of its process tree, largest process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import load1

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
