"""Replayable scripts: a finding that needs earlier steps becomes a POSIX shell script of curls.

A single `curl` line cannot show a failure that depends on what came before (a second return that
exceeds a line only after the first; a reject that is wrong only once the return was shipped).
`script` turns the ordered exchanges of such a finding into a script that replays them against
fresh data: every value a later request took from an earlier answer (a return id in a path, a
return item id in a body, a page token) is read from that answer when the script runs, never
copied from the original run, whose ids mean nothing on another store. The script ends by checking
the last answer and says, by its exit status, whether the failure showed.

A failing list read can also depend on returns the failing sequence did not make (the run's
earlier checks made them): a status filter that lets another status through shows only when a
return in another status is there; a page boundary only with as many returns as the run's list
had. `setup_for` picks those returns, and the script makes them again first (`setup` steps).
"""

from __future__ import annotations

import json
import re
import shlex
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

from conformance.discover import Inventory
from conformance.findings import REDACTED, Exchange, Finding
from conformance.repro_captures import (
    CAPTURED_QUERY,
    Capture,
    JsonPath,
    find_captures,
    is_id_key,
    json_leaves,
    named_by,
    replay_steps,
    static_segments,
)
from conformance.repro_setup import SETUP_CAP as SETUP_CAP  # re-exported: the cap tests read it
from conformance.repro_setup import setup_for, split_url

ACCEPTED = "200 <= status < 300"
"""`shows` of findings about a request that had to be refused: the failure is that it was not."""
_PLACEHOLDER = "@@conformance-capture-{}@@"
_SPLIT = re.compile(r"@@conformance-capture-(\d+)@@")


def _shell_json(body: Any, wanted: dict[str, Capture]) -> str:
    """The body as a shell word: JSON text with the captured values spliced in as variables."""
    spliced: list[Capture] = []

    def swap(value: Any, path: JsonPath) -> Any:
        if isinstance(value, dict):
            return {k: swap(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v, (*path, i)) for i, v in enumerate(value)]
        if value is None or isinstance(value, bool) or not is_id_key(path):
            return value
        capture = wanted.get(str(value))
        if capture is None:
            return value
        spliced.append(capture)
        return _PLACEHOLDER.format(len(spliced) - 1)

    text = json.dumps(swap(body, ()), ensure_ascii=False)
    for n, capture in enumerate(spliced):
        if not isinstance(_original(body, capture), str):  # a number: no quotes around it
            text = text.replace(f'"{_PLACEHOLDER.format(n)}"', _PLACEHOLDER.format(n))
    words = []
    for i, part in enumerate(_SPLIT.split(text)):
        if i % 2:
            words.append(f'"${spliced[int(part)].name}"')
        elif part:
            words.append(shlex.quote(part))
    return "".join(words)


def _original(body: Any, capture: Capture) -> Any:
    """The value the run sent where `capture` goes (a string, or a number)."""
    return next((v for p, v in json_leaves(body) if str(v) == capture.value and is_id_key(p)), None)


def _dq(text: str) -> str:
    """Literal text inside a double-quoted shell word."""
    return re.sub(r'([\\"$`])', r"\\\1", text)


def _shell_url(exchange: Exchange, wanted: dict[str, Capture]) -> str:
    """The URL as one double-quoted shell word, `$BASE_URL` first, captured values spliced in."""
    path, query = split_url(exchange.url)
    static = static_segments()
    parts = ["${BASE_URL}"]
    for segment in path.split("/")[1:]:
        capture = None if segment in static else wanted.get(urllib.parse.unquote(segment))
        parts.append("/" + (f"${{{capture.name}_URL}}" if capture else _dq(segment)))
    for i, (key, value) in enumerate(query):
        capture = wanted.get(value) if key in CAPTURED_QUERY else None
        encoded = f"${{{capture.name}_URL}}" if capture else _dq(urllib.parse.quote(value))
        parts.append(("&" if i else "?") + _dq(urllib.parse.quote(key)) + "=" + encoded)
    return '"' + "".join(parts) + '"'


def _curl(exchange: Exchange, wanted: dict[str, Capture], n: int) -> list[str]:
    words = ["curl", "-sS", "-o", f'"$work/{n}.json"', "-w", "'%{http_code}'"]
    words += ["-X", exchange.method, _shell_url(exchange, wanted)]
    auth = exchange.request_headers.get("authorization")
    if auth is not None:
        value = "Bearer $CONFORMANCE_TOKEN" if REDACTED in auth else auth.replace('"', "")
        words += ["-H", f'"Authorization: {value}"']
    body = exchange.request_body
    if body is not None:
        data = shlex.quote(body) if isinstance(body, str) else _shell_json(body, wanted)
        words += ["-H", "'Content-Type: application/json'", "--data-binary", data]
    return [f"status=$({' '.join(words)}) || exit 2", f'echo "$status" > "$work/{n}.status"']


_PICK = """\
pick() {  # pick FILE KEYS: a value from an earlier answer (KEYS: its JSON path, as JSON)
  python3 -c 'import json, sys
value = json.load(open(sys.argv[1]))
for key in json.loads(sys.argv[2]):
    value = value[key]
print(value)' "$@"
}
urlencode() {
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}"""

_CHECK = """\
import json, sys
work, var = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])


def load(n):
    try:
        with open(f"{{work}}/{{n}}.json") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def dig(value, *keys):
    for key in keys:
        if not isinstance(value, (dict, list)):
            return None
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def ids(value, key="returns", field="returnOrderId"):
    return [i.get(field) for i in dig(value, key) or [] if isinstance(i, dict)]


bodies = [load(n) for n in range(1, {count} + 1)]
statuses = [int(open(f"{{work}}/{{n}}.status").read().strip() or 0) for n in range(1, {count} + 1)]
status, body = statuses[-1], bodies[-1]
print(json.dumps(body, indent=2)[:4000])
if {shows}:
    print({shown!r})
    sys.exit(1)
print({not_shown!r})
"""


def script(
    exchanges: Sequence[Exchange],
    *,
    operation: str,
    reason: str,
    message: str,
    shows: str | None = None,
    setup: int = 0,
) -> str:
    """A POSIX shell script that replays `exchanges` (in order) and checks the last answer.

    `shows` is a Python expression that is true when the last answer shows the failure; it sees
    `status` and `body` (the last answer), `statuses` and `bodies` (every step's), `var` (the
    values read from earlier answers, by the literal the run saw) and the helpers `dig` and
    `ids`. Without one, the failure shows when the last status equals the run's. The first
    `setup` exchanges make the returns the failing read lists (`setup_for`).
    """
    steps = list(exchanges)
    last = steps[-1]
    captures = find_captures(steps)
    every = {c.value: c for wanted in captures.values() for c in wanted.values()}
    expression = shows or f"status == {last.status!r}"
    every = {**named_by(expression, steps, len(every)), **every}
    for value, capture in sorted(every.items(), key=lambda kv: -len(kv[0])):
        expression = expression.replace(repr(value), f"var[{capture.name!r}]")
    lines = [
        "#!/bin/sh",
        f"# {operation}: {reason}",
        *(f"#   {line}" for line in _wrap(message)),
        "# Replays the requests that lead to it, against fresh data: ids the platform assigns are",
        "# read from its answers as the script runs. Needs curl and python3.",
        "#   BASE_URL=https://connector.example CONFORMANCE_TOKEN=... sh this-script.sh",
        "# Exit status: 1 the last answer shows the failure; 0 it does not; 2 an earlier step did",
        "# not succeed as it did in the run, so the failure could not be set up here.",
        "set -u",
        ': "${BASE_URL:?set BASE_URL to the base URL of the connector}"',
        ': "${CONFORMANCE_TOKEN:?set CONFORMANCE_TOKEN to its token}"',
        "BASE_URL=${BASE_URL%/}",
        "work=$(mktemp -d) || exit 2",
        "trap 'rm -rf \"$work\"' EXIT",
        _PICK,
    ]
    if setup:
        lines += [
            "",
            f"# Steps 1-{setup} make again the returns the failing list read showed that the",
            "# run's earlier checks made, as the run made them and in its order; then the failing",
            "# sequence.",
        ]
    for index, exchange in enumerate(steps):
        n = index + 1
        path, _ = split_url(exchange.url)
        role = "; setup" if index < setup else ""
        lines += ["", f"# {n}. {exchange.method} {path} (the run got {exchange.status}{role})"]
        lines += _curl(exchange, captures[index], n)
        lines.append(
            f'echo "{n}. {exchange.method} {path} -> $status (the run got {exchange.status})"'
        )
        if index < len(steps) - 1:
            lines += [
                "case $status in 2??) ;; *)",
                f'  echo "step {n} did not succeed as in the run: the failure cannot be set up '
                'here" >&2',
                f'  cat "$work/{n}.json" >&2; exit 2 ;;',
                "esac",
            ]
        for capture in sorted(
            {c for c in every.values() if c.source == index}, key=lambda c: c.name
        ):
            keys = shlex.quote(json.dumps(list(capture.path)))
            lines += [
                f'{capture.name}=$(pick "$work/{n}.json" {keys}) || exit 2',
                f'{capture.name}_URL=$(urlencode "${capture.name}") || exit 2',
            ]
    args = " ".join(f'"{c.name}=${c.name}"' for c in sorted(every.values(), key=lambda c: c.name))
    check = _CHECK.format(
        count=len(steps),
        shows=expression,
        shown=f"FAILURE SHOWN: {operation} {reason} ({message})",
        not_shown=f"not shown: the last answer does not show {reason}",
    )
    lines += ["", "# The last answer: does it show the failure?"]
    lines += [f"python3 - \"$work\" {args} <<'CHECK'", check.rstrip("\n"), "CHECK", ""]
    return "\n".join(lines)


def _wrap(text: str, width: int = 90) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


REPRO_DIR = "repro"


def script_names(findings: Iterable[Finding]) -> dict[tuple[str, str, str], str]:
    """The file under `reports/<platform>/repro/` of each finding with a script, by key:
    `<operation>-<reason>.sh`, with `-<check>` added when two findings share both."""
    names: dict[tuple[str, str, str], str] = {}
    for finding in findings:
        if finding.script is None or finding.key in names:
            continue
        name = f"{finding.operation}-{finding.reason}.sh"
        if name in names.values():
            name = f"{finding.operation}-{finding.reason}-{finding.check}.sh"
        names[finding.key] = name
    return names


def repro_files(platform: Any) -> dict[str, str]:
    """File name → script, for every finding of a PlatformResult that has one."""
    findings = [f for cell in platform.operations for f in cell.findings]
    scripts = {f.key: f.script for f in findings if f.script is not None}
    return {name: scripts[key] for key, name in script_names(findings).items()}


def replayable(
    operation: str,
    reason: str,
    check: str,
    message: str,
    exchanges: Sequence[Exchange],
    *,
    shows: str | None = None,
    keep_reads: bool = False,
    steps: Sequence[str] = (),
    seed: int | None = None,
    inventory: Inventory | None = None,
) -> Finding:
    """A finding of a multi-step check: the steps the failure needs as its evidence, in order,
    and the script that replays them (none when one request alone shows it). With the run's
    `inventory`, a failing list read that depends on returns made outside `exchanges` gets the
    steps that make them first (`setup_for`)."""
    evidence = replay_steps(exchanges, keep_reads)
    before = setup_for(reason, exchanges, inventory) if inventory is not None else []
    evidence = [*before, *evidence]
    text = (
        script(
            evidence,
            operation=operation,
            reason=reason,
            message=message,
            shows=shows,
            setup=len(before),
        )
        if len(evidence) > 1
        else None
    )
    return Finding(
        operation,
        reason,
        check,
        message,
        evidence=tuple(evidence),
        steps=tuple(steps),
        seed=seed,
        script=text,
    )
