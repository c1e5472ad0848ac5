"""Which values of a replay come from earlier answers: the captures a script reads as it runs.

A value a later request sends (a return id in a path, an item id in a body, a page token) or the
failure check names (the return a list leaves out) is read from the answer that first had it,
never copied from the run, whose ids mean nothing on another store (`conformance.repro`).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.contract import operations
from conformance.findings import Exchange
from conformance.repro_setup import split_url

MIN_CAPTURE = 3  # shorter values ("1", "ok") match by accident; ids are longer
CAPTURED_QUERY = ("page",)  # the query values an answer hands out (page.next); filters are input
JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Capture:
    """A value a later request needs, read from step `source`'s answer at `path`."""

    name: str
    source: int
    path: JsonPath
    value: str
    numeric: bool


def json_leaves(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_leaves(item, (*path, index))
    elif isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        yield path, value


def sent_values(exchange: Exchange) -> set[str]:
    """Every value a request carried (path segments, query values, body leaves), as text."""
    path, query = split_url(exchange.url)
    values = {urllib.parse.unquote(seg) for seg in path.split("/") if seg}
    values |= {v for _, v in query}
    if not isinstance(exchange.request_body, str):
        values |= {str(v) for _, v in json_leaves(exchange.request_body)}
    return values


def is_id_key(path: JsonPath) -> bool:
    """Body values that can name what an earlier answer made: `id`, `…Id` keys."""
    key = next((k for k in reversed(path) if isinstance(k, str)), "")
    return key == "id" or key.endswith("Id")


def static_segments() -> frozenset[str]:
    return frozenset(
        seg for op in operations() for seg in op.path.split("/") if seg and "{" not in seg
    )


def values_needed(exchange: Exchange) -> set[str]:
    """Values of a request that may come from an earlier answer: the id segments of its path,
    its page token, the `id` / `…Id` values of its body."""
    path, query = split_url(exchange.url)
    static = static_segments()
    values = {urllib.parse.unquote(seg) for seg in path.split("/") if seg and seg not in static}
    values |= {v for k, v in query if k in CAPTURED_QUERY}
    if not isinstance(exchange.request_body, str):
        values |= {str(v) for p, v in json_leaves(exchange.request_body) if is_id_key(p)}
    return {v for v in values if len(v) >= MIN_CAPTURE}


def find_captures(steps: Sequence[Exchange]) -> dict[int, dict[str, Capture]]:
    """For each step, the values it takes from earlier answers: value → capture.

    A value counts as taken from an answer when it appears in that answer and in no request up
    to it (then it is the store's data, the same on fresh data, like an order id).
    """
    names: dict[str, Capture] = {}
    result: dict[int, dict[str, Capture]] = {}
    sent = sent_before(steps)
    for index, exchange in enumerate(steps):
        wanted: dict[str, Capture] = {}
        for value in sorted(values_needed(exchange)):
            capture = names.get(value)
            if capture is None:
                capture = answer_source(steps[:index], sent, value, len(names) + 1)
            if capture is not None:
                names[value] = capture
                wanted[value] = capture
        result[index] = wanted
    return result


def sent_before(steps: Sequence[Exchange]) -> list[set[str]]:
    """For each step, every value the requests up to it sent."""
    sent: list[set[str]] = []
    for exchange in steps:
        sent.append((sent[-1] if sent else set()) | sent_values(exchange))
    return sent


def answer_source(
    earlier: Sequence[Exchange], sent: list[set[str]], value: str, n: int
) -> Capture | None:
    for index, exchange in enumerate(earlier):
        if value in sent[index]:
            return None  # the suite sent it before any answer had it: input data
        for path, found in json_leaves(exchange.response_body):
            if str(found) == value:
                key = next((k for k in reversed(path) if isinstance(k, str)), "value")
                name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_").upper() or "VALUE"
                return Capture(f"{name}_{n}", index, path, value, not isinstance(found, str))
    return None


def named_by(expression: str, steps: Sequence[Exchange], taken: int) -> dict[str, Capture]:
    """The ids the `shows` expression names that an earlier answer assigned (e.g. the return a
    list leaves out): read from that answer as the script runs, since fresh data has others."""
    found: dict[str, Capture] = {}
    sent = sent_before(steps)
    for literal in re.findall(r"'([^'\\]+)'", expression):
        capture = answer_source(steps[:-1], sent, literal, taken + len(found) + 1)
        if capture is not None and is_id_key(capture.path):
            found[literal] = capture
    return found


def replay_steps(exchanges: Sequence[Exchange], keep_reads: bool = False) -> list[Exchange]:
    """The steps a replay needs: the writes that succeeded, the reads whose answers a later step
    reads a value from, and the last exchange (the one that shows the failure).

    A refused write changed nothing, and a read that only checked the state changes nothing
    either: both are left out, so the script is the sequence the failure needs. `keep_reads`
    keeps every exchange (a failure shown by several answers together, e.g. pages of a list).
    """
    if keep_reads or len(exchanges) < 2:
        return list(exchanges)
    *before, last = exchanges

    def ok(e: Exchange) -> bool:
        return e.status is not None and 200 <= e.status < 300

    candidates = [*(e for e in before if ok(e)), last]
    captures = find_captures(candidates)
    needed = {i for i, e in enumerate(candidates) if e.method not in ("GET", "HEAD")}
    needed.add(len(candidates) - 1)
    while True:  # the reads the needed steps take values from, and the reads those need
        more = {c.source for i in needed for c in captures[i].values()} - needed
        if not more:
            return [e for i, e in enumerate(candidates) if i in needed]
        needed |= more
