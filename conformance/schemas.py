"""The one loader of the contract's schema files (``schemas/``).

The JSON Schemas (draft 2020-12) and the OpenAPI document live in ``schemas/`` in a source
checkout and in ``conformance/_schemas/`` in an installed wheel. The schema files carry no
``$id`` and refer to each other by file name (``{"$ref": "return-item.schema.json"}``), so an
ordinary tool that loads a file from disk resolves every reference from the file system (a test
runs ``check-jsonschema`` that way over every example). In memory, this loader gives each file
the base URI :data:`BASE_URI` plus its file name, which plays the part of the retrieval URI, so
the same relative references resolve inside one :class:`referencing.Registry`, offline.

Validation is strict about the two formats the contract uses, ``date-time`` (RFC 3339) and
``uri`` (an absolute URI), with stdlib-only checks in :data:`FORMAT_CHECKER`, so results never
depend on which optional packages happen to be installed.

Most instances the suite and the reference server check are valid, so :func:`violations` asks
``jsonschema_rs`` (compiled, ~80x faster, already a dependency of schemathesis) first and keeps
the Python ``jsonschema`` validator as the authority: only when the fast validator says "valid"
is its word taken; any other answer (invalid, or an instance it cannot take) is decided, and
explained, by ``jsonschema``. A test holds the two to the same answer on generated instances.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.protocols
import jsonschema_rs
from referencing import Resource
from referencing.jsonschema import DRAFT202012, Schema, SchemaRegistry

from conformance.errors import SchemaFilesError

__all__ = [
    "BASE_URI",
    "FORMAT_CHECKER",
    "fast_validator",
    "openapi_path",
    "registry",
    "schema_dir",
    "schema_hash",
    "schema_names",
    "validator",
    "violations",
    "without_nulls",
]

BASE_URI = "https://returns-conformance.example/schemas/"
"""The base URI this loader gives every schema file in memory: this prefix plus the file name.

Only a key of :func:`registry` (nothing is fetched from it); the files themselves have no ``$id``.
"""

OPENAPI_FILE = "openapi.yaml"
MAX_VIOLATIONS = 20
_MAX_MESSAGE = 300
_HINT = (
    "reinstall the package, or run from a source checkout that has schemas/*.json and "
    "schemas/openapi.yaml"
)


# --------------------------------------------------------------------------- formats

_DATE_TIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":", then no whitespace
# and no C0/C1 control characters.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f]*")


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def is_date_time(instance: object) -> bool:
    """RFC 3339 ``date-time``: date, ``T``, time, optional fraction, ``Z`` or ±hh:mm offset.

    A space separator, a missing offset and out-of-range fields are rejected. A leap second
    (``:60``) is accepted only at 23:59 UTC. Non-strings pass: ``format`` only constrains strings.
    """
    if not isinstance(instance, str):
        return True
    match = _DATE_TIME.fullmatch(instance)
    if match is None:
        return False
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
    if not 1 <= month <= 12:
        return False
    days = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= days or hour > 23 or minute > 59 or second > 60:
        return False
    offset = 0
    if match["sign"] is not None:
        off_hour, off_minute = int(match["off_hour"]), int(match["off_minute"])
        if off_hour > 23 or off_minute > 59:
            return False
        offset = (off_hour * 60 + off_minute) * (1 if match["sign"] == "+" else -1)
    if second == 60:
        return (hour * 60 + minute - offset) % (24 * 60) == 23 * 60 + 59
    return True


def parse_instant(value: str) -> datetime | None:
    """An RFC 3339 date-time as an aware ``datetime`` (None when it is not one), so that two
    renderings of one instant compare equal: ``2026-10-01T08:30:00Z`` and
    ``2026-10-01T10:30:00.000+02:00``. A fraction beyond microseconds is cut; a leap second and
    year 0, which ``datetime`` cannot hold, become the nearest instant it can."""
    if not is_date_time(value):
        return None
    match = _DATE_TIME.fullmatch(value)
    assert match is not None
    head, _, rest = value.partition(".")
    fraction = ""
    if rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        fraction, rest = "." + rest[:digits][:6].ljust(6, "0"), rest[digits:]
        text = head + fraction + rest
    else:
        text = value
    text = text.replace("z", "+00:00").replace("Z", "+00:00").replace("t", "T")
    leap = match["second"] == "60"
    if leap:
        text = text[:17] + "59" + text[19:]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:  # year 0
        return datetime.min.replace(tzinfo=UTC)
    if leap:
        try:
            moment += timedelta(seconds=1)
        except OverflowError:
            return datetime.max.replace(tzinfo=UTC)
    return moment


def is_uri(instance: object) -> bool:
    """An absolute URI: an RFC 3986 scheme, ``:``, then no whitespace or control characters."""
    if not isinstance(instance, str):
        return True
    return _URI.fullmatch(instance) is not None


FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
"""Checks ``date-time`` and ``uri`` strictly, with the standard library only; other formats pass."""
FORMAT_CHECKER.checks("date-time")(is_date_time)
FORMAT_CHECKER.checks("uri")(is_uri)


# --------------------------------------------------------------------------- files


def schema_dir() -> Path:
    """Where the schema files are: the wheel's ``_schemas``, else the checkout's ``schemas``."""
    package = Path(__file__).resolve().parent
    candidates = (package / "_schemas", package.parent / "schemas")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.schema.json")):
            return candidate
    tried = " or ".join(str(c) for c in candidates)
    raise SchemaFilesError(f"no schema files found in {tried}", hint=_HINT)


def openapi_path() -> Path:
    """The OpenAPI 3.1 document of the contract."""
    path = schema_dir() / OPENAPI_FILE
    if not path.is_file():
        raise SchemaFilesError(f"{path} is missing", hint=_HINT)
    return path


@dataclass(frozen=True)
class _Loaded:
    schemas: Mapping[str, Mapping[str, Any]]
    registry: SchemaRegistry


def _load_dir(directory: Path) -> _Loaded:
    """Read every ``*.json`` in ``directory``; check it is a schema without ``$id``, and give it
    its in-memory base URI (:data:`BASE_URI` plus its file name)."""
    schemas: dict[str, Mapping[str, Any]] = {}
    resources: list[tuple[str, Resource[Schema]]] = []
    for path in sorted(directory.glob("*.json")):
        try:
            contents = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SchemaFilesError(
                f"schema file {path.name} cannot be read as JSON: {exc}", hint=_HINT
            ) from None
        if not isinstance(contents, dict):
            raise SchemaFilesError(f"schema file {path.name} is not a JSON object", hint=_HINT)
        if "$id" in contents:
            raise SchemaFilesError(
                f"schema file {path.name} has $id {contents['$id']!r}; schema files carry no $id",
                hint="remove the $id: a file's location is its identity, so that tools which "
                "load it from disk resolve its relative $refs from the file system",
            )
        uri = BASE_URI + path.name
        identified = {"$id": uri, **contents}
        schemas[path.name] = identified
        resources.append((uri, DRAFT202012.create_resource(identified)))
    if not schemas:
        raise SchemaFilesError(f"no schema files found in {directory}", hint=_HINT)
    registry: SchemaRegistry = SchemaRegistry().with_resources(resources).crawl()
    return _Loaded(schemas=schemas, registry=registry)


@cache
def _loaded() -> _Loaded:
    return _load_dir(schema_dir())


def registry() -> SchemaRegistry:
    """All schema files, keyed by :data:`BASE_URI` plus the file name (loaded once)."""
    return _loaded().registry


def schema_names() -> list[str]:
    """The file names of all schema files, sorted."""
    return sorted(_loaded().schemas)


def _schema(loaded: _Loaded, name: str) -> Mapping[str, Any]:
    try:
        return loaded.schemas[name]
    except KeyError:
        raise SchemaFilesError(
            f"unknown schema file {name!r}",
            hint="use one of: " + ", ".join(sorted(loaded.schemas)),
        ) from None


def _validator_for(loaded: _Loaded, name: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(
        _schema(loaded, name), registry=loaded.registry, format_checker=FORMAT_CHECKER
    )


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator for the schema file ``name``, e.g. ``"return.schema.json"``."""
    return _validator_for(_loaded(), name)


# --------------------------------------------------------------------------- messages


def _pointer(path: Iterable[str | int]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else "(root)"


def _shorten(message: str) -> str:
    if len(message) <= _MAX_MESSAGE:
        return message
    return message[: _MAX_MESSAGE - 1] + "…"


_DOCUMENTING = frozenset({"enum", "const"})


def _explain(error: jsonschema.exceptions.ValidationError) -> tuple[str, str]:
    """The JSON pointer and message of the most specific cause of ``error``.

    Where ``anyOf``/``oneOf`` failed, the branch that fits the instance's type explains best
    (a quantity of ``-1`` is below the minimum, not "invalid under any of the given schemas");
    errors from ``enum``/``const`` branches, which only document normalized values, come last;
    if only type mismatches remain, they are merged ("5 is not of type 'string' or 'null'").
    """
    best = jsonschema.exceptions.best_match([error]) or error
    while best.context and best.validator in ("anyOf", "oneOf"):
        branches = [e for e in best.context if e.validator not in _DOCUMENTING] or list(
            best.context
        )
        specific = [e for e in branches if e.validator != "type"]
        if not specific:
            wanted: list[str] = []
            for branch in branches:
                value = branch.validator_value
                for name in value if isinstance(value, list) else [value]:
                    if repr(name) not in wanted:
                        wanted.append(repr(name))
            message = f"{best.instance!r} is not of type {' or '.join(wanted)}"
            return _pointer(best.absolute_path), message
        best = jsonschema.exceptions.best_match(specific) or specific[0]
    return _pointer(best.absolute_path), best.message


def format_errors(
    errors: Iterable[jsonschema.exceptions.ValidationError], limit: int = MAX_VIOLATIONS
) -> list[str]:
    """Readable messages (``"/returns/0/status: 5 is not of type 'string'"``), best first.

    Best first means shallowest first (a missing required property explains more than a bad
    value deep inside), then in the order the validator found them, which follows the document.
    """
    ranked = sorted(enumerate(errors), key=lambda pair: (len(pair[1].path), pair[0]))
    messages: list[str] = []
    for _, error in ranked:
        pointer, message = _explain(error)
        line = f"{pointer}: {_shorten(message)}"
        if line not in messages:
            messages.append(line)
        if len(messages) >= limit:
            break
    return messages


@cache
def _fast_registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(BASE_URI + n, dict(s)) for n, s in _loaded().schemas.items()])


@cache
def fast_validator(name: str) -> jsonschema_rs.Validator:
    """The compiled twin of :func:`validator`: same schema, references and format checks."""
    return jsonschema_rs.Draft202012Validator(
        dict(_schema(_loaded(), name)),
        registry=_fast_registry(),
        formats={"date-time": is_date_time, "uri": is_uri},
        validate_formats=True,
        ignore_unknown_formats=True,
        offline=True,
    )


def _surely_valid(name: str, instance: object) -> bool:
    """The fast validator's "valid"; False when it says otherwise or cannot take ``instance``."""
    try:
        return bool(fast_validator(name).is_valid(instance))
    except (ValueError, TypeError, OverflowError, jsonschema_rs.ReferencingError):
        return False


def violations(name: str, instance: object) -> list[str]:
    """Why ``instance`` breaks the schema file ``name``: at most 20 messages, best first."""
    if _surely_valid(name, instance):
        return []
    payload: Any = instance  # any JSON value; the stubs' JSON type is narrower than `object`
    return format_errors(validator(name).iter_errors(payload))


def without_nulls(body: Any) -> Any:
    """`body` with every object member whose value is null left out, at any depth (array
    elements stay): a request read as "an optional field sent as null is absent" (contract §2).
    A required field sent as null is then missing, so the request stays invalid."""
    if isinstance(body, dict):
        return {key: without_nulls(value) for key, value in body.items() if value is not None}
    if isinstance(body, list):
        return [without_nulls(value) for value in body]
    return body


# --------------------------------------------------------------------------- provenance


def _hash_dir(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.name.startswith("."):
            continue
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return "sha256:" + digest.hexdigest()


@cache
def schema_hash() -> str:
    """``sha256:<hex>`` over every file in :func:`schema_dir` (names and bytes, sorted by name)."""
    return _hash_dir(schema_dir())
