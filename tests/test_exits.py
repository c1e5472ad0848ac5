"""How a run ends when it does not end well: exit 2 still leaves a summary, a bug in the suite is
exit 3 (never 1) with the cells it could not decide inconclusive, Ctrl-C writes what was decided
and exits 130, and `serve` on a taken port is one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conformance import engine
from conformance.cli import main

CLI = [sys.executable, "-m", "conformance"]


def matrix(out: Path, name: str) -> dict[str, dict[str, object]]:
    data = json.loads((out / "capability_matrices" / f"{name}.json").read_text())
    return dict(data["operations"])


def test_a_run_that_cannot_start_still_writes_its_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "summary.md").write_text("## an older run's summary\n")
    code = main(["run", "--config", str(tmp_path / "missing.toml"), "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "does not exist" in err
    summary = (tmp_path / "reports" / "summary.md").read_text()
    assert "could not start" in summary and err.strip() in summary
    assert "older run" not in summary


def test_unreachable_target_writes_the_summary_where_the_reports_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    os.environ.pop("CONFORMANCE_TOKEN", None)
    code = main(
        [
            "run",
            "--base-url",
            f"http://127.0.0.1:{port}",
            "--token",
            "t0k3n-not-to-be-written",
            "--output-dir",
            str(tmp_path / "out"),
            "--timeout",
            "2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    summary = (tmp_path / "out" / "reports" / "summary.md").read_text()
    assert err.strip() in summary
    assert "t0k3n-not-to-be-written" not in summary


def test_a_bug_in_a_stage_is_exit_3_with_inconclusive_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: object) -> None:
        raise RuntimeError("a bug in the lifecycle probes")

    monkeypatch.setattr(engine, "probe_lifecycle", broken)
    args = ["run", "--platform", "full-manual", "--max-examples", "0", "--output-dir"]
    code = main([*args, str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 3, captured.err
    assert "internal error" in captured.err and "Traceback" not in captured.err
    cells = matrix(tmp_path, "full-manual")
    stuck = [op for op, cell in cells.items() if "suite_error" in cell["reasons"]]  # type: ignore[operator]
    assert stuck, cells
    for op in stuck:
        assert cells[op]["status"] == "inconclusive"
    # What the other stages decided is kept: the reads were probed before the bug.
    assert cells["getReturn"]["status"] == "supported"


def test_ctrl_c_in_one_platform_keeps_what_was_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def pressed(session: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "probe_negative", pressed)
    args = ["run", "--platform", "auto-approve", "--max-examples", "0", "--output-dir"]
    code = main([*args, str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 130, captured.err
    assert "interrupted" in captured.err
    cells = matrix(tmp_path, "auto-approve")
    assert cells["listReturns"]["status"] == "supported"  # decided before Ctrl-C
    interrupted = [op for op, c in cells.items() if "interrupted" in c["reasons"]]  # type: ignore[operator]
    for op in interrupted:
        assert cells[op]["status"] == "untested"
    assert (tmp_path / "reports" / "summary.md").exists()


def test_ctrl_c_across_worker_processes(tmp_path: Path) -> None:
    """SIGINT to the main process of a six-platform run: the running platforms stop at their
    next request, the queued ones never start, every matrix is written, exit 130."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [*CLI, "run", "--max-examples", "400", "--output-dir", str(tmp_path), "--seed", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A shell starts background jobs with SIGINT ignored, and Python keeps an ignored
        # SIGINT ignored: the run would never see the Ctrl-C (seen when the tests themselves ran
        # in the background). The user at a terminal has it at its default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Press Ctrl-C once the worker processes exist (the pool is up) and have had time to
    # start probing: whatever each platform was doing then, the outcome must be the same.
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(children.read_text().split()) < 2:
        time.sleep(0.1)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    names = [p.stem for p in (tmp_path / "capability_matrices").glob("*.json")]
    assert len(names) == 6
    reasons = [r for n in names for c in matrix(tmp_path, n).values() for r in c["reasons"]]  # type: ignore[attr-defined]
    assert "interrupted" in reasons


def test_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*CLI, "serve", "--platform", "full-manual", "--port", str(port), "--token", "t"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot listen on" in proc.stderr and "serving" not in proc.stderr


def test_serve_on_a_free_port_answers() -> None:
    proc = subprocess.Popen(
        [*CLI, "serve", "--platform", "full-manual", "--port", "0", "--token", "serve-token"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("serving full-manual"), line
        base = line.split(" on ")[1].strip()
        for _ in range(50):
            try:
                reply = httpx.get(
                    base + "orders", headers={"Authorization": "Bearer serve-token"}, timeout=5
                )
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert reply.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_serve_turns_nagle_off_on_its_connections() -> None:
    """`serve` binds its own socket; asyncio (and so uvicorn) sets TCP_NODELAY only on sockets
    whose protocol is TCP. Without it every answer on a kept-alive connection waited ~40 ms
    for a delayed ACK, which made a URL run of one platform eight times slower."""
    import asyncio

    from conformance.cli import _listen

    listener = _listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    seen: list[int] = []

    async def main() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen and seen[0] != 0, "accepted connections keep Nagle's algorithm on"
