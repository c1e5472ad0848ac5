"""The variation catalogue (variations.toml) and the reference platforms' own request limits
(limits.toml): the files, the engine that reads them, and the default strictness on the wire."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import pytest
import test_ref_variations_behaviour  # type: ignore[import-not-found]
import test_ref_variations_bodies  # type: ignore[import-not-found]
import test_ref_variations_wire  # type: ignore[import-not-found]
from refkit import Api, expect_error, tracking_body  # type: ignore[import-not-found]

from conformance.contract import OperationId
from conformance.errors import ProfileError, UsageError
from conformance.reference import load_profile, profile_names
from conformance.reference.limits import Limit, limits, parse_limits
from conformance.reference.profile import Behaviour, parse_profile
from conformance.reference.server import defect_catalogue
from conformance.reference.variations import (
    applies,
    check_variations,
    needed_window,
    parse_catalogue,
    variation_catalogue,
    where_applies,
    with_variations,
)

# The brief's names, final.
NAMES = [
    "create-200",
    "repeat-200",
    "repeat-409",
    "cancel-approved-409",
    "error-details",
    "extra-fields",
    "required-only",
    "all-optional",
    "nulls",
    "opaque-page-tokens",
    "no-page-on-last",
    "default-page-size",
    "unknown-status-400",
    "unknown-status-empty",
    "filters-rejected",
    "pagination-rejected",
    "offset-timestamps",
    "string-quantities",
    "numeric-ids",
    "encoded-ids",
    "long-text",
    "platform-vocabulary",
    "platform-statuses",
    "unknown-reasons-accepted",
    "gzip",
    "chunked",
    "throttle",
    "upstream-errors",
    "missing-write-405",
    "read-lag",
    "null-as-absent",
    "slow",
]


# --------------------------------------------------------------------------- the catalogue


def test_the_catalogue_has_the_named_variations() -> None:
    assert list(variation_catalogue()) == NAMES


def test_every_variation_has_a_wire_test() -> None:
    tested = [
        *test_ref_variations_bodies.CHECKS,
        *test_ref_variations_behaviour.CHECKS,
        *test_ref_variations_wire.CHECKS,
    ]
    assert sorted(tested) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_is_complete_and_applies_somewhere(name: str) -> None:
    var = variation_catalogue()[name]
    assert var.description and var.permitted_by
    assert var.behaviour, "a variation sets at least one Behaviour field"
    assert set(var.behaviour) <= {f.name for f in dataclasses.fields(Behaviour)}
    assert set(var.needs_any) <= set(OperationId)
    for other in var.conflicts:  # symmetric
        assert name in variation_catalogue()[other].conflicts, other
    assert where_applies(name)
    assert all(applies(name, load_profile(p)) for p in where_applies(name))


GOOD = {"description": "d", "permitted_by": "p", "behaviour": {"create_status": 200}}


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"x": {**GOOD, "colour": "red"}}, "unknown keys"),
        ({"x": {**GOOD, "behaviour": {"create_status_code": 200}}}, "unknown behaviour key"),
        ({"x": {**GOOD, "behaviour": {"create_status": 202}}}, "not a valid value"),
        ({"x": {**GOOD, "behaviour": {"gzip": "yes"}}}, "not a valid value"),
        ({"x": {**GOOD, "needs_any": ["deleteReturn"]}}, "unknown operations"),
        ({"x": {**GOOD, "description": ""}}, "description"),
        ({"x": {k: v for k, v in GOOD.items() if k != "permitted_by"}}, "permitted_by"),
        ({"x": {**GOOD, "conflicts": ["y"]}, "y": GOOD}, "but not y with x"),
        ({"x": {**GOOD, "conflicts": ["nope"]}}, "unknown 'nope'"),
        ({"x": GOOD, "y": {**GOOD, "behaviour": {"create_status": 201}}}, "differently"),
        ({"x": {**GOOD, "consistency_window": -1}}, "consistency_window"),
        (
            {"x": {**GOOD, "behaviour": {"reason_names": {"damaged": "damaged"}}}},
            "outside the vocabulary",
        ),
    ],
)
def test_a_malformed_catalogue_is_refused(data: dict[str, Any], says: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(says)):
        parse_catalogue(data)


def test_check_variations_says_what_is_wrong_in_one_line() -> None:
    check_variations(["long-text", "gzip"], load_profile("full-manual"))
    with pytest.raises(UsageError) as unknown:
        check_variations(["nope"])
    assert "unknown variation nope" in unknown.value.one_line()
    assert "long-text" in unknown.value.one_line()
    with pytest.raises(UsageError, match="repeat-200 and repeat-409 cannot be combined"):
        check_variations(["repeat-409", "repeat-200"])
    with pytest.raises(UsageError) as missing:
        check_variations(["missing-write-405"], load_profile("full-manual"))
    line = missing.value.one_line()
    assert "does not apply to platform full-manual" in line
    assert "auto-approve, no-reverse-shipments, no-returns" in line
    assert "\n" not in line


def test_defects_hidden_by_name_variations_of_their_profile() -> None:
    """defects.toml `hidden_by`: variations under which the seeded bug cannot be seen."""
    for name, defect in defect_catalogue().items():
        for variation in defect.get("hidden_by", []):
            assert applies(variation, load_profile(defect["profile"])), (name, variation)


def test_needed_window() -> None:
    assert needed_window([]) == 0.0
    assert needed_window(["gzip"]) == 0.0
    assert needed_window(["gzip", "read-lag"]) == 1.0


def test_with_variations_sets_behaviour_and_keeps_the_name() -> None:
    base = load_profile("full-manual")
    assert with_variations(base, []) is base
    varied = with_variations(base, ["create-200", "unknown-status-400"])
    assert varied.name == base.name and varied.orders == base.orders
    assert varied.behaviour == dataclasses.replace(
        base.behaviour, create_status=200, unknown_status_filter="reject"
    )
    assert base.behaviour.create_status == 201  # the cached profile is untouched


@pytest.mark.parametrize("ids", ["numeric-ids", "encoded-ids"])
@pytest.mark.parametrize("name", profile_names())
def test_id_variations_rename_every_data_id_consistently(ids: str, name: str) -> None:
    base, varied = load_profile(name), with_variations(load_profile(name), [ids])
    lines = {line.id for order in varied.orders for line in order.lines}
    orders = {order.id for order in varied.orders}
    assert len(orders) == len(base.orders)
    assert len(lines) == sum(len(o.lines) for o in base.orders)
    for seed, old in zip(varied.returns, base.returns, strict=True):
        assert seed.order in orders and {x.line for x in seed.lines} <= lines
        assert seed.id != old.id
        assert [f.id for f in seed.fulfillments] != [f.id for f in old.fulfillments] or not (
            old.fulfillments
        )
    every = orders | lines | {s.id for s in varied.returns}
    if ids == "numeric-ids":
        assert all(i.isdigit() for i in every)
    else:
        assert all("/" in i and ":" in i for i in every)


def test_a_profile_behaviour_table_is_checked_like_a_variation() -> None:
    data = {
        "name": "x",
        "imitates": "x",
        "why": "x",
        "operations": {op: "ok" for op in OperationId},
        "orders": [{"id": "O", "items": [{"id": "L", "quantity": 1}]}],
    }
    assert parse_profile(data, "x").behaviour == Behaviour()
    with pytest.raises(ProfileError, match="unknown behaviour key"):
        parse_profile({**data, "behaviour": {"repeat": "conflict"}}, "x")
    with pytest.raises(ProfileError, match="not a valid value"):
        parse_profile({**data, "behaviour": {"default_limit": "50"}}, "x")


# --------------------------------------------------------------------------- limits.toml


@pytest.mark.parametrize(
    "data",
    [
        {"x": {"at": ["createReturn /return/note"]}},
        {"x": {"max_length": 5, "maximum": 5, "at": ["createReturn /return/note"]}},
        {"x": {"max_length": 5, "at": ["deleteReturn /note"]}},
        {"x": {"max_length": 5, "at": ["getReturn /note"]}},
        {"x": {"max_length": 5, "at": ["createReturn return/note"]}},
        {"x": {"max_length": "5", "at": ["createReturn /return/note"]}},
        {"x": {"vocabulary": "colours", "at": ["createReturn /return/note"]}},
        {"x": {"max_length": 5, "at": ["createReturn /return/note"], "why": "?"}},
    ],
)
def test_a_malformed_limits_file_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ProfileError):
        parse_limits(data)


BASES: dict[str, dict[str, Any]] = {
    "createReturn": {
        "return": {
            "items": [{"id": "{line}", "quantity": 1, "reason": "other", "note": "n"}],
            "note": "n",
        }
    },
    "createReturnFulfillment": {
        "returnFulfillment": {
            "tracking": {"number": "1Z", "company": "UPS", "url": "https://t.example/1"},
            "items": [{"returnItemId": "{item}", "quantity": 1}],
            "package": {"identifiers": ["P-1"]},
            "documents": [
                {"type": "label", "url": "https://l.example/1", "document": "QQ==", "format": "pdf"}
            ],
        }
    },
    "approveReturn": {"note": "n"},
    "cancelReturn": {"note": "n"},
    "rejectReturn": {"note": "n", "reason": "r"},
}


def beyond(rule: Limit) -> tuple[dict[str, Any], str]:
    """A body that breaks `rule` at its first place, and that place as a JSON pointer."""
    body = copy.deepcopy(BASES[rule.op_id])
    node: Any = body
    for key in rule.path[:-1]:
        node = node[0 if key == "*" else key]
    last: Any = 0 if rule.path[-1] == "*" else rule.path[-1]
    if rule.kind == "max_length":
        url = str(last) == "url"
        node[last] = "https://x.example/" + "a" * rule.value if url else "a" * (rule.value + 1)
    elif rule.kind == "max_items":
        node[last] = [node[last][0]] * (rule.value + 1)
    elif rule.kind == "maximum":
        node[last] = rule.value + 1
    else:
        node[last] = "BROKEN_ON_ARRIVAL"
    return body, "/" + "/".join("0" if k == "*" else k for k in rule.path)


def _send(api: Api, rule: Limit, body: dict[str, Any]) -> Any:
    order = api.take_order()
    line = order.lines[0].id
    if rule.op_id == "createReturn":
        return api.call("createReturn", orderId=order.id, json=_fill(body, line))
    ret = api.create(order.id, [(line, 1)])
    path = {"orderId": order.id}
    if rule.op_id == "createReturnFulfillment":
        ret = api.act("approveReturn", order.id, ret["returnOrderId"])
        item = ret["returnItems"][0]["returnItemId"]
        return api.call(rule.op_id, returnId=ret["returnOrderId"], json=_fill(body, item), **path)
    return api.call(rule.op_id, id=ret["returnOrderId"], json=body, **path)


def _fill(value: Any, real: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, real) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, real) for v in value]
    return real if value in ("{line}", "{item}") else value


RULES = [
    pytest.param(rule, id=f"{rule.name}:{rule.op_id}:{'/'.join(rule.path)}") for rule in limits()
]


@pytest.mark.parametrize("rule", RULES)
def test_every_limit_is_a_400_by_default(varied_api: Any, rule: Limit) -> None:
    api: Api = varied_api("full-manual", [])
    body, pointer = beyond(rule)
    details = expect_error(_send(api, rule, body), 400, "INVALID_REQUEST")["details"]
    assert pointer in [d.get("field") for d in details], details


@pytest.mark.parametrize("rule", RULES)
def test_the_variations_lift_the_limits(varied_api: Any, rule: Limit) -> None:
    lifting = "unknown-reasons-accepted" if rule.kind == "vocabulary" else "long-text"
    api: Api = varied_api("full-manual", [lifting])
    body, _ = beyond(rule)
    response = _send(api, rule, body)
    # accepted, or refused for a business rule (an id that does not exist, over-quantity)
    assert response.status_code in (200, 201, 422), response.text[:300]


def test_a_501_character_note_is_400_and_5000_with_long_text_is_kept(varied_api: Any) -> None:
    strict: Api = varied_api("full-manual", [])
    order = strict.take_order()
    items = [{"id": order.lines[0].id, "quantity": 1, "reason": "other"}]
    body = {"return": {"items": items, "note": "x" * 501}}
    err = strict.error("createReturn", 400, "INVALID_REQUEST", orderId=order.id, json=body)
    assert err["details"] == [{"field": "/return/note", "message": err["details"][0]["message"]}]
    body["return"]["note"] = "x" * 500
    strict.ok("createReturn", orderId=order.id, json=body)
    lenient: Api = varied_api("full-manual", ["long-text"])
    order = lenient.take_order()
    items = [{"id": order.lines[0].id, "quantity": 1, "reason": "other", "note": "y" * 5000}]
    ret = lenient.ok(
        "createReturn", orderId=order.id, json={"return": {"items": items, "note": "x" * 5000}}
    )["return"]
    assert ret["note"] == "x" * 5000 and ret["returnItems"][0]["note"] == "y" * 5000
    assert lenient.get_return(order.id, ret["returnOrderId"]) == ret
    found = lenient.return_in("approved")
    assert found is not None
    shipment = tracking_body()
    shipment["returnFulfillment"]["tracking"]["url"] = "https://t.example/" + "z" * 3000
    path = {"orderId": found[0], "returnId": found[1]}
    ful = lenient.ok("createReturnFulfillment", json=shipment, **path)
    assert ful["returnFulfillment"]["tracking"]["url"].endswith("z" * 3000)


def test_an_unknown_reason_is_400_unless_accepted(varied_api: Any) -> None:
    for variations, accepted in (
        ([], False),
        (["long-text"], False),
        (["unknown-reasons-accepted"], True),
    ):
        api: Api = varied_api("full-manual", variations)
        order = api.take_order()
        items = [{"id": order.lines[0].id, "quantity": 1, "reason": "broken"}]
        response = api.call("createReturn", orderId=order.id, json={"return": {"items": items}})
        if accepted:
            assert response.status_code == 201
            assert response.json()["return"]["returnItems"][0]["returnReason"] == "broken"
        else:
            details = expect_error(response, 400, "INVALID_REQUEST")["details"]
            assert details[0]["field"] == "/return/items/0/reason"
