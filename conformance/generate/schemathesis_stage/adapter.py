"""Every use of schemathesis internals, in one place, checked against schemathesis 4.32.5.

Schemathesis' Python engine is not a public API (its migration guide says so), and neither are
its recorder, its case metadata or its ``NotSet``. The stage needs them: the engine is the only
way to run the coverage and stateful phases outside pytest, and the recorder is where it leaves
what it sent, got and checked. Everything that reaches past ``schemathesis.__all__`` (``Config``,
``openapi.from_dict``, the ``filter_failure`` and ``map_case`` hooks) is here, and is turned into
the suite's own types on the way out, so the rest of the stage never reads a schemathesis object.

Nothing here guesses: an import, attribute or failure code that is not where 4.32.5 has it raises
:class:`SchemathesisDrift`. :func:`check_api` looks for all of them before a request is sent; the
tests call it, so an upgrade that moves one is a red test (``tests/generate/
test_schemathesis_drift.py``), not a note in a report.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import version
from pathlib import Path
from typing import Any

from conformance.verdicts import ReasonCode

__all__ = [
    "CHECKED_AGAINST",
    "CODES",
    "Call",
    "Engine",
    "EngineNote",
    "Failed",
    "Scenario",
    "SchemathesisDrift",
    "Stopped",
    "check_api",
    "drew_path_from_pool",
    "failure_code",
    "is_negative_in_path_or_header",
    "is_unset",
    "load_schema",
    "read_scenario",
    "route",
    "sent_request",
]

CHECKED_AGAINST = "4.32.5"
MINOR = (4, 32)

# Failure codes the stage screens on (`schemathesis explain CODE`), with the class that carries
# each in 4.32.5: a code that moves to another class or changes is drift.
CODES: dict[str, tuple[str, str, str]] = {
    # name → (code, module, failure class)
    ReasonCode.server_error: ("ST101", "schemathesis.core.failures", "ServerError"),
    ReasonCode.undocumented_status: ("ST103", "schemathesis.openapi.checks", "UndefinedStatusCode"),
    "negative_accepted": ("ST201", "schemathesis.core.failures", "AcceptedNegativeData"),
    "missing_header_accepted": ("ST203", "schemathesis.openapi.checks", "MissingHeaderNotRejected"),
    "created_not_found": ("ST302", "schemathesis.openapi.checks", "EnsureResourceAvailability"),
    "auth_ignored": ("ST401", "schemathesis.openapi.checks", "IgnoredAuth"),
}

# (module, attribute) pairs the stage reads; each is checked by `check_api`.
_NAMES = (
    ("schemathesis", "Config"),
    ("schemathesis", "openapi"),
    ("schemathesis.core", "NotSet"),
    ("schemathesis.core.transport", "Response"),
    ("schemathesis.core.parameters", "ParameterLocation"),
    ("schemathesis.engine", "from_schema"),
    ("schemathesis.engine.events", "ScenarioFinished"),
    ("schemathesis.engine.events", "NonFatalError"),
    ("schemathesis.engine.events", "FatalError"),
    ("schemathesis.engine.events", "EngineFinished"),
    ("schemathesis.engine.recorder", "ScenarioRecorder"),
    ("schemathesis.generation.meta", "CaseMetadata"),
    ("schemathesis.resources", "PoolDraw"),
)
# Dataclass fields the stage reads, by class.
_FIELDS = {
    ("schemathesis.engine.recorder", "ScenarioRecorder"): {"cases", "checks", "interactions"},
    ("schemathesis.engine.recorder", "CheckNode"): {"name", "status", "failure_info"},
    ("schemathesis.engine.recorder", "CaseNode"): {"value"},
    ("schemathesis.engine.recorder", "CheckFailureInfo"): {"failure"},
    ("schemathesis.engine.recorder", "Interaction"): {"request", "response"},
    ("schemathesis.engine.recorder", "Request"): {"method", "uri", "body", "headers"},
    ("schemathesis.generation.meta", "CaseMetadata"): {"pool_draws"},
    ("schemathesis.resources", "PoolDraw"): {"location"},
}
_METHODS = {
    ("schemathesis.engine.recorder", "ScenarioRecorder"): ("iter_chain_cases", "find_response"),
    ("schemathesis.generation.meta", "CaseMetadata"): ("is_negative_at",),
}


class SchemathesisDrift(RuntimeError):
    """Schemathesis is not shaped as the stage expects (a version other than the one checked)."""


def _get(module: str, name: str) -> Any:
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise SchemathesisDrift(f"{module}.{name} is gone ({exc})") from exc


def check_api() -> None:
    """Raise :class:`SchemathesisDrift` unless every internal the stage uses is where it was."""
    installed = version("schemathesis")
    if tuple(int(part) for part in installed.split(".")[:2]) != MINOR:
        raise SchemathesisDrift(f"schemathesis {installed} installed; checked against 4.32")
    for module, name in _NAMES:
        _get(module, name)
    for (module, name), fields in _FIELDS.items():
        cls = _get(module, name)
        have = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        if fields - have:
            raise SchemathesisDrift(f"{module}.{name} lacks {sorted(fields - have)}")
    for (module, name), methods in _METHODS.items():
        cls = _get(module, name)
        if missing := [m for m in methods if not callable(getattr(cls, m, None))]:
            raise SchemathesisDrift(f"{module}.{name} lacks {missing}")
    if "request" not in getattr(_get("schemathesis.core.transport", "Response"), "__slots__", ()):
        raise SchemathesisDrift("schemathesis.core.transport.Response lacks request")
    location = _get("schemathesis.core.parameters", "ParameterLocation")
    if not {"PATH", "HEADER"} <= set(location.__members__):
        raise SchemathesisDrift("ParameterLocation lacks PATH or HEADER")
    for code, module, name in CODES.values():
        if getattr(_get(module, name), "code", None) != code:
            raise SchemathesisDrift(f"{module}.{name} no longer carries {code}")


# --------------------------------------------------------------------------- the suite's types


@dataclass(frozen=True)
class Call:
    """One request and its answer, as the recorder kept them (``status`` None: no answer)."""

    method: str
    uri: str
    request_headers: dict[str, list[str]]
    request_body: bytes | str | None
    status: int | None
    response_headers: dict[str, list[str]]
    response_body: bytes | None
    elapsed: float  # seconds


@dataclass(frozen=True)
class Sent:
    """The request behind an answer, as schemathesis sent it: enough to send it again."""

    method: str
    url: str
    authorization: str | None  # the Authorization header it carried, if any
    body: bytes | None


@dataclass(frozen=True)
class Failed:
    """A failed check, on the route (method, path template) of the case that failed."""

    check: str
    code: str
    title: str
    message: str
    route: tuple[str, str]
    call: Call | None
    steps: tuple[str, ...]  # stateful only: "METHOD path -> status", oldest first


@dataclass(frozen=True)
class Scenario:
    """One finished scenario: how many requests were answered, which checks passed or failed."""

    answered: int
    passed: tuple[tuple[str, str], ...]  # the route of each passed check
    failures: tuple[Failed, ...]


@dataclass(frozen=True)
class EngineNote:
    """Something the engine reported that is not a check: an error, a fatal error."""

    text: str


@dataclass(frozen=True)
class Stopped:
    """The engine finished; ``reason`` is "completed" unless it was stopped or failed."""

    reason: str


# --------------------------------------------------------------------------- schema and engine


def load_schema(config: dict[str, Any], document: dict[str, Any], path: Path) -> Any:
    """The schema from the public loaders, with relative ``$ref``s resolved against ``path``.

    ``from_dict`` is public; setting ``location`` is what ``from_path`` does (4.32.5).
    """
    import schemathesis

    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config.from_dict(config))
    schema.location = path.absolute().as_uri()
    return schema


def route(case: Any) -> tuple[str, str]:
    """The (METHOD, path template) of a case: ``Case.operation`` is public."""
    return (str(case.operation.method).upper(), str(case.operation.path))


class Engine:
    """Schemathesis' engine over one schema, stoppable from another thread (4.32.5 internals)."""

    def __init__(self, schema: Any) -> None:
        from_schema = _get("schemathesis.engine", "from_schema")
        self._stream = from_schema(schema).execute()
        self._events = import_module("schemathesis.engine.events")

    def stop(self) -> None:
        self._stream.stop()

    def run(
        self, max_time: float, on_scenario: Callable[[Any], None]
    ) -> Iterator[EngineNote | Stopped]:
        """Run for at most ``max_time`` seconds; each finished scenario goes to ``on_scenario``."""
        ev = self._events
        timer = threading.Timer(max_time, self.stop)
        timer.daemon = True
        timer.start()
        try:
            for event in self._stream:
                if isinstance(event, ev.ScenarioFinished):
                    on_scenario(event)
                elif isinstance(event, ev.NonFatalError):
                    yield EngineNote(f"schemathesis error ({event.label}): {event.info.message}")
                elif isinstance(event, ev.FatalError):
                    yield EngineNote(f"schemathesis could not run: {event.exception!r}")
                elif isinstance(event, ev.EngineFinished):
                    yield Stopped(str(getattr(event.stop_reason, "value", event.stop_reason)))
        finally:
            timer.cancel()


def read_scenario(event: Any) -> Scenario:
    """A ``ScenarioFinished`` event's recorder, as the suite's :class:`Scenario`."""
    try:
        recorder = event.recorder
        stateful = str(getattr(event.phase, "value", event.phase)) == "stateful"
        answered = sum(1 for i in recorder.interactions.values() if i.response is not None)
        passed: list[tuple[str, str]] = []
        failures: list[Failed] = []
        for case_id, checks in recorder.checks.items():
            node = recorder.cases.get(case_id)
            for check in checks:
                status = str(getattr(check.status, "value", check.status))
                if status == "success" and node is not None:
                    passed.append(route(node.value))
                elif status == "failure" and check.failure_info is not None:
                    failed = _failed(recorder, case_id, check.name, check.failure_info, stateful)
                    if failed is not None:
                        failures.append(failed)
    except AttributeError as exc:
        raise SchemathesisDrift(f"a scenario's recorder is not as in 4.32.5 ({exc})") from exc
    return Scenario(answered=answered, passed=tuple(passed), failures=tuple(failures))


def _failed(recorder: Any, case_id: str, check: str, info: Any, stateful: bool) -> Failed | None:
    failure = info.failure
    failing_id = failure.case_id or case_id
    node = recorder.cases.get(failing_id) or recorder.cases.get(case_id)
    if node is None:
        return None
    interaction = recorder.interactions.get(failing_id) or recorder.interactions.get(case_id)
    return Failed(
        check=str(check),
        code=str(failure.code),
        title=str(failure.title),
        message=str(failure.message or ""),
        route=route(node.value),
        call=_call(interaction) if interaction is not None else None,
        steps=_steps(recorder, failing_id) if stateful else (),
    )


def _steps(recorder: Any, case_id: str) -> tuple[str, ...]:
    """The calls that lead to a stateful failure, oldest first (unredacted)."""
    try:
        chain = list(recorder.iter_chain_cases(case_id=case_id))
    except (KeyError, LookupError):
        return ()  # a case the recorder does not chain: no steps, the failure still counts
    lines = []
    for case in chain:
        response = recorder.find_response(case_id=case.id)
        answer = response.status_code if response is not None else "no answer"
        lines.append(f"{case.method} {case.formatted_path} -> {answer}")
    return tuple(lines)


def _call(interaction: Any) -> Call:
    request = interaction.request
    response = interaction.response
    return Call(
        method=str(request.method).upper(),
        uri=str(request.uri),
        request_headers={str(k): _strings(v) for k, v in (request.headers or {}).items()},
        request_body=request.body,
        status=int(response.status_code) if response is not None else None,
        response_headers=(
            {str(k): _strings(v) for k, v in (response.headers or {}).items()}
            if response is not None
            else {}
        ),
        response_body=response.content if response is not None else None,
        elapsed=float(getattr(response, "elapsed", 0.0) or 0.0) if response is not None else 0.0,
    )


def _strings(values: Any) -> list[str]:
    if isinstance(values, str | bytes):
        values = [values]
    return [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values or ()]


# --------------------------------------------------------------------------- cases and failures


def failure_code(failure: Any) -> str:
    """The ``ST…`` code of a failure the ``filter_failure`` hook was given."""
    try:
        return str(failure.code)
    except AttributeError as exc:
        raise SchemathesisDrift(f"a failure has no code ({exc})") from exc


def sent_request(response: Any) -> Sent:
    """The request a ``filter_failure`` hook's response answered: ``Response.request`` is a
    ``requests.PreparedRequest`` (4.32.5), with the URL, headers and body bytes as sent."""
    try:
        request = response.request
        method, url, headers, body = request.method, request.url, request.headers, request.body
    except AttributeError as exc:
        raise SchemathesisDrift(f"a response does not carry its request ({exc})") from exc
    authorization = next(
        (str(v) for k, v in (headers or {}).items() if str(k).lower() == "authorization"), None
    )
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is not None and not isinstance(body, bytes):
        raise SchemathesisDrift(f"a request body is a {type(body).__name__}, not bytes")
    return Sent(str(method).upper(), str(url), authorization, body)


def drew_path_from_pool(case: Any) -> bool:
    """Whether a path parameter of ``case`` came from the pool of earlier answers.

    ``CaseMetadata.pool_draws`` and ``PoolDraw.location`` (4.32.5); a case without metadata
    drew nothing.
    """
    meta = case.meta
    if meta is None:
        return False
    try:
        draws = meta.pool_draws
    except AttributeError as exc:
        raise SchemathesisDrift(f"case metadata has no pool_draws ({exc})") from exc
    return any(str(d.location).lower().endswith("path") for d in draws or ())


def is_negative_in_path_or_header(case: Any) -> bool:
    """Whether schemathesis made the path or a header invalid on purpose (4.32.5 metadata)."""
    meta = case.meta
    if meta is None:
        return False
    location = _get("schemathesis.core.parameters", "ParameterLocation")
    try:
        return any(meta.is_negative_at(loc) for loc in (location.PATH, location.HEADER))
    except AttributeError as exc:
        raise SchemathesisDrift(f"case metadata has no is_negative_at ({exc})") from exc


def is_unset(value: Any) -> bool:
    """Whether a case's body is absent: None, or schemathesis' ``NotSet`` marker."""
    return value is None or isinstance(value, _get("schemathesis.core", "NotSet"))
