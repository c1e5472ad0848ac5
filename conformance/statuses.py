"""A return status read as the contract's vocabulary (contract section 3).

A platform may answer its own spelling of a status (`REQUESTED`, `CANCELED`): the wire check
notes it (`nonnormalized_value`, partial), and every behaviour check compares what it stands
for, read here. The spellings are data (`data/spellings.toml`); a value that stands for no
normalized status (`AWAITING_PICKUP`) is reported as None, and the checks decide what they can
tell from it (a status that changed after an action is a note, one that did not is failing).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from conformance.contract import vocabularies

SEPARATORS = str.maketrans("", "", "_- ")


def fold(value: str) -> str:
    """A spelling without case and the separators `_`, `-` and space."""
    return value.translate(SEPARATORS).casefold()


@cache
def _spellings() -> dict[str, str]:
    """Folded spelling → normalized return status: the vocabulary's own and the table's."""
    path = resources.files("conformance.data").joinpath("spellings.toml")
    table = tomllib.loads(path.read_text(encoding="utf-8"))["return_status"]
    normalized = vocabularies().return_status
    unknown = set(table.values()) - normalized
    assert not unknown, f"spellings.toml names statuses outside the vocabulary: {sorted(unknown)}"
    found = {fold(status): status for status in normalized}
    for spelling, status in table.items():
        assert found.get(fold(spelling), status) == status, (
            f"spellings.toml: {spelling} is ambiguous"
        )
        found[fold(spelling)] = status
    return found


def return_status(value: Any) -> str | None:
    """The normalized return status `value` stands for; None when it stands for none (or is not
    a string)."""
    if not isinstance(value, str):
        return None
    if value in vocabularies().return_status:
        return value
    return _spellings().get(fold(value))


def read_status(value: Any) -> str | None:
    """A return status as the checks keep it: the normalized status it stands for, else the
    platform's own value as it was answered (None when it is not a string)."""
    if not isinstance(value, str):
        return None
    return return_status(value) or value


def unmappable(value: Any) -> bool:
    """A string status that stands for no normalized one: no transition check can judge it."""
    return isinstance(value, str) and return_status(value) is None


def platform_word(value: Any) -> str:
    """How a note names a platform's own status that the suite cannot read."""
    return f"the platform's own status {value!r}"


def reached(before: str | None, value: Any, to_status: str) -> bool | None:
    """Whether a status read after an action shows it took effect: True when `value` stands for
    `to_status`; False when it stands for another status, is the status `before` the action, or
    is no string; None when it is the platform's own value, other than before, that stands for
    no normalized status: the effect happened as far as the suite can tell, but not which
    status it led to."""
    mapped = return_status(value)
    if mapped is not None:
        return mapped == to_status
    if not isinstance(value, str) or value == before:
        return False
    return None


def cannot_tell(value: Any, after: str) -> str:
    """The note for a status `reached` cannot judge."""
    return (
        f"{platform_word(value)} after {after}; the suite cannot tell which normalized status "
        "it is (contract section 3: platform-specific values are allowed)"
    )
