"""Every example in the contract's files, checked by a third-party validator from disk.

``check-jsonschema`` (a PyPI CLI built on ``jsonschema``) loads the schema files the ordinary
way, by path, and resolves every ``$ref`` from the file system: between schema files, and from
``openapi.yaml`` into them. The project's own loader (``conformance/schemas.py``) is not used,
so these tests also hold that the files stay resolvable by tools that know nothing of it.

What is checked:

- every ``examples`` entry in a ``*.schema.json``, against the subschema that carries it;
- every example in ``openapi.yaml``: media-type, parameter and header examples (inline or
  ``#/components/examples/…``) against their ``schema``, and ``examples`` inside its schemas.

All examples go into one instance (a JSON array) and one wrapper schema whose ``prefixItems``
refer to each example's schema by its file URI and JSON pointer, so one process checks them all
and each error's path (``$[i]…``) names its example.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from conformance import schemas

OPENAPI = "openapi.yaml"
_DATA_KEYWORDS = {"examples", "example", "enum", "const", "default"}
_TIMEOUT = 120


@dataclass(frozen=True)
class Example:
    """One example: where it is (``label``), the schema it must fit (``schema``, a file name
    and JSON pointer relative to the schema directory), and its value."""

    label: str
    schema: str
    instance: Any


def _token(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _subschemas(node: object, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema of a schema, not looking inside data (examples, enum, const, default)."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _subschemas(value, f"{pointer}/{_token(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _subschemas(value, f"{pointer}/{index}")


def _schema_examples(file: str, schema: object, pointer: str = "") -> Iterator[Example]:
    for at, node in _subschemas(schema, pointer):
        values = node.get("examples", [])
        assert isinstance(values, list), f"{file}#{at}/examples is not a list"
        for index, value in enumerate(values):
            yield Example(f"{file}#{at}/examples/{index}", f"{file}#{at}", value)


def _local(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"an example $ref outside {OPENAPI}: {ref}"
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def _openapi_examples(document: dict[str, Any]) -> Iterator[Example]:
    """Media-type, parameter and header examples, and the examples inside every schema."""

    def walk(node: object, pointer: str) -> Iterator[Example]:
        if isinstance(node, list):
            for index, value in enumerate(node):
                yield from walk(value, f"{pointer}/{index}")
            return
        if not isinstance(node, dict):
            return
        if "schema" in node:  # a Media Type, Parameter or Header Object
            target = f"{OPENAPI}#{pointer}/schema"
            yield from _schema_examples(OPENAPI, node["schema"], f"{pointer}/schema")
            if "example" in node:
                yield Example(f"{OPENAPI}#{pointer}/example", target, node["example"])
            for name, entry in node.get("examples", {}).items():
                assert "externalValue" not in entry, f"{pointer}/examples/{name}: externalValue"
                value = _local(document, entry["$ref"]) if "$ref" in entry else entry
                label = f"{OPENAPI}#{pointer}/examples/{_token(name)}"
                yield Example(label, target, value["value"])
        for key, value in node.items():
            if key not in {"schema", "example", "examples"}:
                yield from walk(value, f"{pointer}/{_token(key)}")

    yield from walk(document, "")
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        yield from _schema_examples(OPENAPI, schema, f"/components/schemas/{_token(name)}")


def collect(directory: Path) -> list[Example]:
    """Every example in the schema files and the OpenAPI document of ``directory``."""
    found: list[Example] = []
    for path in sorted(directory.glob("*.schema.json")):
        found += _schema_examples(path.name, json.loads(path.read_text(encoding="utf-8")))
    document = yaml.safe_load((directory / OPENAPI).read_text(encoding="utf-8"))
    found += _openapi_examples(document)
    return found


@dataclass
class Outcome:
    """What check-jsonschema said: errors per example (by index), or why it could not check."""

    examples: list[Example]
    errors: dict[int, list[str]] = field(default_factory=dict)
    failure: str | None = None

    def problems(self) -> str:
        """Every failure in one text, for assertion messages; empty when all is well."""
        lines = [] if self.failure is None else [self.failure]
        for index, messages in sorted(self.errors.items()):
            label = self.examples[index].label if index < len(self.examples) else f"${index}"
            lines += [f"{label}: {message}" for message in messages]
        return "\n".join(lines)


def _check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema", "--color", "never", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT, check=False)


def _fragment(schema: str) -> str:
    """The JSON pointer of ``schema``, quoted for a URI fragment (``{`` in path names)."""
    return quote(schema.partition("#")[2], safe="/~$")


def check(directory: Path, work: Path) -> Outcome:
    """Run check-jsonschema over every example of ``directory``, writing its input to ``work``."""
    examples = collect(directory)
    base = directory.resolve()
    wrapper = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "array",
        "prefixItems": [
            {"$ref": (base / e.schema.partition("#")[0]).as_uri() + "#" + _fragment(e.schema)}
            for e in examples
        ],
        "minItems": len(examples),
        "items": False,
    }
    schema_file, instance_file = work / "examples.schema.json", work / "examples.json"
    schema_file.write_text(json.dumps(wrapper, indent=1), encoding="utf-8")
    instance_file.write_text(json.dumps([e.instance for e in examples]), encoding="utf-8")
    done = _check_jsonschema(
        "--output-format", "json", "--schemafile", str(schema_file), str(instance_file)
    )
    outcome = Outcome(examples)
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    if not isinstance(report, dict) or report.get("status") not in ("ok", "fail"):
        tail = (done.stderr or done.stdout).strip().splitlines()[:12]
        outcome.failure = f"check-jsonschema exited {done.returncode}:\n" + "\n".join(tail)
        return outcome
    for error in report.get("errors", []):
        match = re.match(r"\$\[(\d+)\]", error.get("path", ""))
        index = int(match[1]) if match else len(examples)
        best = error.get("best_deep_match") or error
        outcome.errors.setdefault(index, []).append(f"{best['path']}: {best['message']}")
    for parse_error in report.get("parse_errors", []):
        outcome.failure = f"check-jsonschema could not parse its input: {parse_error}"
    if report["status"] == "fail" and not outcome.errors and outcome.failure is None:
        outcome.failure = "check-jsonschema failed without naming an error"
    return outcome


# --------------------------------------------------------------------------- the examples

EXAMPLES = collect(schemas.schema_dir())


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return check(schemas.schema_dir(), tmp_path_factory.mktemp("check-jsonschema"))


def test_examples_are_found_in_both_kinds_of_file() -> None:
    in_schemas = [e for e in EXAMPLES if not e.label.startswith(OPENAPI)]
    in_openapi = [e for e in EXAMPLES if e.label.startswith(OPENAPI)]
    assert len(in_schemas) >= 60 and len(in_openapi) >= 30, (len(in_schemas), len(in_openapi))
    assert len({e.label for e in EXAMPLES}) == len(EXAMPLES)


def test_check_jsonschema_ran(outcome: Outcome) -> None:
    assert outcome.failure is None, outcome.problems()
    assert outcome.examples == EXAMPLES


@pytest.mark.parametrize("index", range(len(EXAMPLES)), ids=[e.label for e in EXAMPLES])
def test_example_fits_its_schema(outcome: Outcome, index: int) -> None:
    assert outcome.failure is None, outcome.problems()
    assert index not in outcome.errors, outcome.problems()


def test_no_error_is_left_unassigned(outcome: Outcome) -> None:
    assert not [i for i in outcome.errors if i >= len(EXAMPLES)], outcome.problems()


def test_schema_files_are_valid_against_their_metaschema() -> None:
    files = sorted(str(p) for p in schemas.schema_dir().glob("*.schema.json"))
    done = _check_jsonschema("--check-metaschema", *files)
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- it can fail


def _edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _break_root_example(directory: Path) -> str:
    def drop_required(schema: dict[str, Any]) -> None:
        del schema["examples"][0][schema["required"][0]]

    _edit_json(directory / "return.schema.json", drop_required)
    return "return.schema.json#/examples/0: "


def _break_nested_example(directory: Path) -> str:
    def negative(schema: dict[str, Any]) -> None:
        schema["$defs"]["quantity"]["examples"][0] = -1

    _edit_json(directory / "vocabularies.schema.json", negative)
    return "vocabularies.schema.json#/$defs/quantity/examples/0: "


def _break_openapi_example(directory: Path) -> str:
    path = directory / OPENAPI
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["components"]["examples"]["ReturnEnvelope"]["value"]["success"] = "yes"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return "/content/application~1json/examples/return: "


def _break_schema_ref(directory: Path) -> str:
    _replace(directory / "return.schema.json", '"return-item.schema.json"', '"gone.schema.json"')
    return "gone.schema.json"


def _break_openapi_ref(directory: Path) -> str:
    _replace(directory / OPENAPI, '"error.schema.json"', '"gone.schema.json"')
    return "gone.schema.json"


@pytest.mark.parametrize(
    "breaker",
    [
        _break_root_example,
        _break_nested_example,
        _break_openapi_example,
        _break_schema_ref,
        _break_openapi_ref,
    ],
    ids=lambda breaker: breaker.__name__.removeprefix("_break_"),
)
def test_a_broken_example_or_ref_fails(tmp_path: Path, breaker: Callable[[Path], str]) -> None:
    directory = tmp_path / "schemas"
    shutil.copytree(schemas.schema_dir(), directory)
    expected = breaker(directory)
    problems = check(directory, tmp_path).problems()
    assert expected in problems, problems
