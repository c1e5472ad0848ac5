"""The contract's words as names: operation ids and reason codes are enum members in the code,
so a typo is a type error (mypy) instead of a KeyError when the judge runs, and a reader finds
every use of `approveReturn` by its name."""

from __future__ import annotations

import io
import tokenize
import tomllib
from importlib import resources
from pathlib import Path

import conformance
from conformance.contract import OperationId, operations
from conformance.verdicts import ReasonCode

PACKAGE = Path(conformance.__file__).parent
# Where the words are defined (the enums) or are data of another kind: the reference server's
# profiles say "not_supported" as a support level, not as a reason code.
DEFINITIONS = {PACKAGE / "contract.py", PACKAGE / "verdicts.py"}
REFERENCE = PACKAGE / "reference"


def bare_literals(words: set[str], *, skip_reference: bool) -> list[str]:
    """Every string literal in the package that is exactly one of `words` (docstrings and
    f-strings are not: they are prose)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in DEFINITIONS or (skip_reference and REFERENCE in path.parents):
            continue
        source = path.read_text("utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            text = token.string
            if token.type == tokenize.STRING and text[:1] in "\"'" and text[1:-1] in words:
                found.append(f"{path.relative_to(PACKAGE)}:{token.start[0]}: {text}")
    return found


def test_reason_codes_are_the_files_in_its_order() -> None:
    text = resources.files("conformance.data").joinpath("reasons.toml").read_text("utf-8")
    assert [code.value for code in ReasonCode] == list(tomllib.loads(text))


def test_operation_ids_are_the_contracts_in_its_order() -> None:
    assert [op.value for op in OperationId] == [op.id for op in operations()]


def test_no_operation_id_is_a_bare_string() -> None:
    assert bare_literals({op.value for op in OperationId}, skip_reference=False) == []


def test_no_reason_code_is_a_bare_string_in_the_suite() -> None:
    # A few suite words are also reason codes with another meaning: the progress word
    # "interrupted", option names ("timeout"), JSON keys.
    allowed = {
        "cli.py": {'"interrupted"'},
        "engine.py": {'"interrupted"'},
        "config.py": {'"timeout"'},
        "suite/plugin.py": {'"timeout"'},
        "results.py": {'"interrupted"'},
    }
    found = bare_literals({code.value for code in ReasonCode}, skip_reference=True)
    left = [
        line
        for line in found
        if line.rsplit(": ", 1)[1] not in allowed.get(line.split(":", 1)[0], set())
    ]
    assert left == []
