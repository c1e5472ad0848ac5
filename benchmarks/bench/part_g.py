"""(g) The default run against one URL target, schemathesis on and off: its cost, what it adds.

For a URL target the suite runs schemathesis' phases by default (`RunConfig.schemathesis` None:
on); the embedded reference run leaves them off. This part measures what that default costs on
one target, and what the stage finds there that the suite's own checks do not: on the clean
server, and with each seeded defect of `conformance/reference/defects.toml` switched on.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import PROFILE_B, SEED, Section, child_env, cpu_s, median, new_token, secs
from bench.common import suite_cmd as run_cmd
from bench.measure import Measured, measure
from conformance.reference import ReferenceServer
from conformance.reference.server import defect_catalogue

ST_CHECK = "schemathesis."  # the check names of the stage's findings
# --quick: the seeded defects where schemathesis has something to say, and one where it has not.
QUICK_DEFECTS = (
    "server_error_on_field_type",
    "server_error_on_invalid_input",
    "unsupported_answers_200",
    "approve_no_effect",
)
Cells = dict[str, dict[str, Any]]


@contextlib.contextmanager
def url_target(profile: str, token: str, defects: Sequence[str] = ()) -> Iterator[str]:
    """A reference server in this process (`ReferenceServer`), reached by its URL only."""
    with ReferenceServer(profile, token, frozenset(defects)) as server:
        yield server.base_url


def default_run(
    profile: str,
    work: Path,
    tag: str,
    schemathesis: bool,
    defects: Sequence[str] = (),
    timeout: float = 600,
) -> tuple[Measured, Cells | None]:
    """`conformance run --base-url URL --allow-writes` with every other setting at its default;
    schemathesis off through a config file saying so (on is the default for a URL target)."""
    token = new_token()
    out = work / f"{tag}-out"
    args = ["--base-url", "", "--platform", profile, "--allow-writes", "--seed", str(SEED)]
    if not schemathesis:
        cfg = work / "g-off.toml"
        cfg.write_text("schemathesis = false\n", "utf-8")
        args += ["--config", str(cfg)]
    with url_target(profile, token, defects) as url:
        args[1] = url
        m = measure(
            run_cmd(*args, "--output-dir", str(out)),
            cwd=work,
            log=work / f"{tag}.log",
            timeout=timeout,
            env=child_env(CONFORMANCE_TOKEN=token),
        )
    try:
        path = out / "capability_matrices" / f"{profile}.json"
        cells: Cells = json.loads(path.read_text("utf-8"))["operations"]
    except (OSError, ValueError, KeyError):
        return m, None
    return m, cells


def schemathesis_adds(off: Cells, on: Cells) -> dict[str, Any]:
    """What the run with schemathesis says that the run without it does not."""
    st_findings: list[tuple[str, str, str]] = []  # (operation, reason, check)
    only: list[tuple[str, str, str]] = []  # ... whose reason no other check gave on that cell
    changed: list[str] = []  # cells whose verdict or reasons differ
    new_notes: list[tuple[str, str]] = []
    ran = passed = 0  # the stage's checks (a stage that did not run shows 0 here)
    for op, cell in on.items():
        for name, tally in cell.get("checks", {}).get("byName", {}).items():
            if name.startswith("schemathesis"):
                ran, passed = ran + tally["run"], passed + tally["passed"]
        before = off.get(op, {})
        mine = {f["reason"] for f in before.get("findings", [])}
        mine |= {f["reason"] for f in cell["findings"] if not f["check"].startswith(ST_CHECK)}
        for f in cell["findings"]:
            if f["check"].startswith(ST_CHECK):
                found = (op, f["reason"], f["check"][len(ST_CHECK) :])
                st_findings.append(found)
                if f["reason"] not in mine:
                    only.append(found)
        if (cell["status"], cell["reasons"]) != (before.get("status"), before.get("reasons")):
            was = f"{before.get('status')} ({', '.join(before.get('reasons', [])) or '—'})"
            changed.append(f"{op}: {was} → {cell['status']} ({', '.join(cell['reasons']) or '—'})")
        new_notes += [(op, n) for n in cell.get("notes", []) if n not in before.get("notes", [])]
    return {
        "st": st_findings,
        "only": only,
        "changed": changed,
        "notes": new_notes,
        "ran": ran,
        "passed": passed,
    }


def caught(cells: Cells | None, d: dict[str, Any]) -> bool:
    cell = (cells or {}).get(d["operation"])
    return cell is not None and cell["status"] == d["verdict"] and d["reason"] in cell["reasons"]


def listed(items: Sequence[tuple[str, ...]]) -> str:
    return "; ".join(f"{op} {reason} ({check})" for op, reason, check in items) or "—"


def part_g(opts: argparse.Namespace, work: Path) -> Section:
    sec = Section(
        "g", f"(g) The default run against one URL target ({PROFILE_B}): schemathesis on vs off"
    )
    runs: dict[bool, list[Measured]] = {True: [], False: []}
    clean: dict[bool, Cells | None] = {}
    for i in range(opts.reps):
        for st in (False, True) if i % 2 == 0 else (True, False):
            m, cells = default_run(
                PROFILE_B, work, f"g-{'on' if st else 'off'}-{i}", st, timeout=opts.timeout
            )
            runs[st].append(m)
            clean.setdefault(st, cells)
            sec.loads += [m.load_before, m.load_after]
            print(
                f"  (g) rep {i + 1}/{opts.reps}, schemathesis {'on' if st else 'off'}: "
                f"{m.wall:.2f} s, rc {m.rc}",
                flush=True,
            )
    wall = {st: median([m.wall for m in ms if not m.timed_out]) for st, ms in runs.items()}
    adds = schemathesis_adds(clean[False] or {}, clean[True] or {})

    catalogue = defect_catalogue()
    names = [n for n in QUICK_DEFECTS if n in catalogue] if opts.quick else list(catalogue)

    def detect(name: str) -> dict[str, Any]:
        d = catalogue[name]
        _, off = default_run(d["profile"], work, f"g-defect-off-{name}", False, [name])
        _, on = default_run(d["profile"], work, f"g-defect-on-{name}", True, [name])
        found = schemathesis_adds(off or {}, on or {})
        print(f"  (g) defect {name}: off {caught(off, d)}, on {caught(on, d)}", flush=True)
        return {"name": name, "d": d, "off": caught(off, d), "on": caught(on, d), **found}

    with ThreadPoolExecutor(max_workers=opts.jobs) as pool:
        results = list(pool.map(detect, names))
    n_off = sum(r["off"] for r in results)
    n_on = sum(r["on"] for r in results)
    only_defects = [r["name"] for r in results if r["on"] and not r["off"]]
    on_own_op = [
        r["name"] for r in results if any(op == r["d"]["operation"] for op, _, _ in r["only"])
    ]
    sec.summary_rows += [
        (
            f"(g) default run, one URL target ({PROFILE_B}): schemathesis on vs off (median wall)",
            f"{secs(wall[True])} vs {secs(wall[False])} (+{secs(wall[True] - wall[False])}, "
            f"{wall[True] / wall[False]:.2f}×)",
            "—",
            "",
        ),
        (
            "(g) what the schemathesis stage finds that the suite's own checks do not",
            f"clean server: {len(adds['only'])} finding(s) of {len(adds['st'])}; seeded defects "
            f"caught {n_on}/{len(results)} on vs {n_off}/{len(results)} off "
            f"({len(only_defects)} only with it); a reason no other check gave, on the defect's "
            f"operation: {len(on_own_op)}; the stage ran {adds['ran']} checks on the clean server",
            "—",
            "",
        ),
    ]
    b = sec.body
    b.append(
        f"`conformance run --base-url URL --platform {PROFILE_B} --allow-writes --seed {SEED}` "
        "and nothing else (default budget, default `--connections`), against a "
        "`ReferenceServer` started in the benchmark's process and reached by its URL only, so "
        "it is a URL target, for which schemathesis' phases are on by default; off is the same "
        "command with a config file saying `schemathesis = false`. A fresh server per run; "
        "on and off alternate."
    )
    b.append("")
    b.append("| rep | schemathesis | wall | CPU (user+sys) | exit | load |")
    b.append("|---|---|---|---|---|---|")
    for st in (False, True):
        for i, m in enumerate(runs[st], 1):
            b.append(
                f"| {i} | {'on' if st else 'off'} | {secs(m.wall)} | {cpu_s(m.cpu)} | {m.rc} | "
                f"{m.load_before:.2f} |"
            )
    b.append("")
    b.append(
        "What the run with schemathesis says that the run without it does not, on the clean "
        f"server (first repetition). Checks of the stage: {adds['ran']} run, {adds['passed']} "
        f"passed. Findings of the stage: {listed(adds['st'])}. Of these, "
        "with a reason no other check gave on that operation (in either run): "
        f"{listed(adds['only'])}. Cells whose verdict or reasons differ: "
        f"{'; '.join(adds['changed']) or 'none'}. New notes: {len(adds['notes'])}."
    )
    b.append("")
    b.append(
        "Seeded defects, one fresh server per defect and run. *Caught*: the defect's operation "
        "has the expected verdict and reason. *Only schemathesis*: a finding of the stage whose "
        "reason no other check gave on that operation."
    )
    b.append("")
    b.append(
        "| defect | operation | expected | caught, off | caught, on | findings of the stage | "
        "only schemathesis | cells changed |"
    )
    b.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        d = r["d"]
        b.append(
            f"| `{r['name']}` | {d['operation']} | {d['verdict']} ({d['reason']}) | "
            f"{'✔' if r['off'] else '✘'} | {'✔' if r['on'] else '✘'} | {listed(r['st'])} | "
            f"{listed(r['only'])} | {'; '.join(r['changed']) or '—'} |"
        )
    b.append(
        f"| **total** | | | **{n_off}/{len(results)}** | **{n_on}/{len(results)}** | "
        f"{sum(len(r['st']) for r in results)} | {sum(len(r['only']) for r in results)} | |"
    )
    return sec
