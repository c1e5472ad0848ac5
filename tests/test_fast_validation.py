"""The compiled fast path of `schemas.violations` never calls an invalid instance valid.

`violations` trusts `jsonschema_rs` only when it says "valid"; everything else goes to the Python
`jsonschema` validator. So the one thing that must hold is: whenever the fast validator says
valid, `jsonschema` finds no error. These tests hunt for counterexamples near the schemas'
own examples (where the rules bite), with values picked to provoke the two engines' known
differences: formats, regular expressions, big and non-finite numbers, integral floats.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import schemas
from conformance.generate.mutations import _set, mutations

NAMES = schemas.schema_names()

# Values where two JSON Schema engines are most likely to disagree.
TRICKY: list[Any] = [
    "2026-02-29T10:00:00Z",  # not a leap year
    "2024-02-29T10:00:00Z",
    "2026-11-26T23:59:60Z",  # leap second at the wrong minute
    "2026-11-26T10:00:00",  # no offset
    "2026-11-26 10:00:00Z",  # space separator
    "2026-11-26t10:00:00z",
    "https://example.test/label.pdf",
    "relative/path",
    "ht tp://x",
    "APPROVED\n",  # `$` before a trailing newline: Python re and ECMA differ
    "approved",
    "REQUESTED",
    "sha256:" + "0" * 64,
    "12",
    " 2",
    "",
    "\u00e9",
    0,
    -1,
    1.0,
    2.5,
    10**20,
    -(10**20),
    float("nan"),
    float("inf"),
    True,
    None,
    [],
    {},
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(TRICKY),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _examples(name: str) -> list[Any]:
    return list(schemas._loaded().schemas[name].get("examples", []))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    return _set(document, list(path), value) if path else value


def _assert_sound(name: str, instance: Any) -> None:
    fast_says_valid = schemas._surely_valid(name, instance)
    python_errors = schemas.format_errors(schemas.validator(name).iter_errors(instance))
    if fast_says_valid:
        shown = json.dumps(instance, default=repr)[:300]
        assert not python_errors, (
            f"{name}: fast path said valid, jsonschema says {python_errors} for {shown}"
        )
    assert schemas.violations(name, instance) == python_errors


@pytest.mark.parametrize("name", NAMES)
def test_examples_and_their_mutations_get_the_same_answer(name: str) -> None:
    """Examples are valid to both; every single-rule mutation is invalid to both."""
    assert _examples(name), f"{name} has no examples"
    for example in _examples(name):
        assert schemas.fast_validator(name).is_valid(example), f"{name}: example refused"
        for mutation in mutations(name, example):
            assert not schemas.fast_validator(name).is_valid(mutation.body), (
                f"{name}: fast path accepted {mutation.description}"
            )


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fast_valid_implies_no_violation_near_the_examples(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from([n for n in NAMES if _examples(n)]))
    example = data.draw(st.sampled_from(_examples(name)))
    path = data.draw(st.sampled_from(_paths(example)))
    value = data.draw(st.sampled_from(TRICKY) | json_values)
    _assert_sound(name, _replace(example, path, value))


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(NAMES), instance=json_values)
def test_fast_valid_implies_no_violation_on_any_json(name: str, instance: Any) -> None:
    _assert_sound(name, instance)


def test_an_instance_the_fast_validator_cannot_take_goes_to_jsonschema() -> None:
    name = "return.schema.json"
    instance = {"strange": object()}  # not JSON at all
    assert schemas._surely_valid(name, instance) is False
    assert schemas.violations(name, instance)  # still explained, by jsonschema
