"""Named variations that reshape the bodies (variations.toml), on every platform each applies to:
error details, extra fields, only the required fields, every optional field, nulls, offset
timestamps, string quantities, numeric and percent-encoded ids, the platform's own vocabulary.

Every answer is also checked by refkit (status, envelope, response schema), and the autouse guard
fails a test whose server logged an error.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from refkit import EXTRA_KEYS, Api, expect_error, url_path  # type: ignore[import-not-found]
from varykit import (  # type: ignore[import-not-found]
    cases,
    nullable,
    objects,
    properties,
    registry,
    required,
    resources,
    sample,
    schema_names,
)

from conformance.contract import operations, vocabularies

CHECKS, check = registry()
ERROR_CODE = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "NOT_ALLOWED", 404: "NOT_FOUND"}
ERROR_CODE |= {405: "METHOD_NOT_ALLOWED", 409: "INVALID_STATE", 422: "UNPROCESSABLE"}
ERROR_CODE |= {429: "RATE_LIMITED", 501: "NOT_SUPPORTED"}
ID_KEYS = (
    "id",
    "returnOrderId",
    "orderId",
    "returnFulfillmentOrderId",
    "returnItemId",
    "orderItemId",
    "fulfillmentItemId",
)


def placeholders(api: Api, op_id: str) -> dict[str, str]:
    path = {"orderId": api.profile.orders[0].id, "id": "R-NONE", "returnId": "R-NONE"}
    return {k: v for k, v in path.items() if "{" + k + "}" in url_path(op_id)}


def error_answers(api: Api) -> list[Any]:
    """One answer of every error status the platform can give without special data."""
    answers = [
        api.call_as(None, "listOrders"),
        api.client.get("/api/v2/no-such-resource"),
        api.client.delete("/api/v2/orders"),
        api.call("getOrder", id="NO-SUCH-ORDER"),
        api.call("listOrders", params={"limit": "0"}),
    ]
    for op in operations():
        if not api.supports(op.id):
            answers.append(api.call(op.id, json={}, **placeholders(api, op.id)))
    if api.supports("createReturn"):
        order = api.take_order()
        body = {"return": {"items": [{"id": "NO-SUCH-LINE", "quantity": 1, "reason": "other"}]}}
        answers.append(api.call("createReturn", orderId=order.id, json=body))
    if api.supports("rejectReturn") and (found := api.return_in("approved")):
        answers.append(api.call("rejectReturn", orderId=found[0], id=found[1]))
    return answers


@check("error-details")
def _error_details(api: Api) -> None:
    statuses = set()
    for response in error_answers(api):
        body = expect_error(response, response.status_code, ERROR_CODE[response.status_code])
        assert body["details"], body
        assert all(isinstance(d, dict) and d for d in body["details"]), body
        statuses.add(response.status_code)
    assert {400, 401, 404, 405} <= statuses, statuses


@check("extra-fields")
def _extra_fields(api: Api) -> None:
    assert EXTRA_KEYS.isdisjoint(schema_names()), "an extra key is one a schema names"
    bodies: list[Any] = [body for _, body in sample(api)]
    bodies += [r.json() for r in error_answers(api)]
    for body in bodies:
        for obj in objects(body):
            assert set(obj) >= EXTRA_KEYS, obj
            assert not (set(obj) - EXTRA_KEYS) & EXTRA_KEYS


@check("required-only")
def _required_only(api: Api) -> None:
    bodies = sample(api)
    for op_id, ret in resources(bodies, "return"):
        want = required("return.schema.json") | ({"orderId"} if op_id == "listReturns" else set())
        assert set(ret) == want, (op_id, ret)
        for item in ret["returnItems"]:
            assert set(item) == required("return-item.schema.json"), item
    for _, ful in resources(bodies, "returnFulfillment"):
        assert set(ful) == required("return-fulfillment.schema.json"), ful
        assert set(ful["tracking"]) == required("return-fulfillment.schema.json", "tracking")
    for _, order in resources(bodies, "order"):
        assert set(order) == required("order.schema.json"), order
        for line in order["items"]:
            assert set(line) == required("order.schema.json", "items"), line
    for _, body in bodies:
        if "page" in body:
            assert body["page"]["next"] is not None, "a page object on the last page"


def _all_present(obj: dict[str, Any], names: Any, where: str) -> None:
    missing = set(names) - set(obj)
    assert not missing, (where, missing, obj)
    assert all(obj[k] is not None for k in names), (where, obj)


@check("all-optional")
def _all_optional(api: Api) -> None:
    bodies = sample(api)
    returns = resources(bodies, "return")
    assert returns, "no return to look at"
    for _, ret in returns:
        _all_present(ret, properties("return.schema.json"), "Return")
        for item in ret["returnItems"]:
            _all_present(item, properties("return-item.schema.json"), "ReturnItem")
        for detail in ret["items"]:
            _all_present(detail, properties("return.schema.json", "items"), "Return.items")
        assert ret["packages"], ret
        for package in ret["packages"]:
            _all_present(package, properties("return-package.schema.json"), "ReturnPackage")
    for _, ful in resources(bodies, "returnFulfillment"):
        _all_present(ful, properties("return-fulfillment.schema.json"), "ReturnFulfillment")
        _all_present(ful["tracking"], ("number", "company", "url"), "tracking")
        _all_present(ful["package"], properties("return-package.schema.json"), "package")
        assert ful["documents"], ful
        for document in ful["documents"]:
            _all_present(document, ("type", "url", "format"), "document")


@check("nulls")
def _nulls(api: Api) -> None:
    bodies = sample(api)
    fulfillment = "return-fulfillment.schema.json"
    for _, ret in resources(bodies, "return"):
        for key in nullable("return.schema.json"):
            assert ret[key] is None, (key, ret)
        for item in ret["returnItems"]:
            for key in nullable("return-item.schema.json"):
                assert item[key] is None, (key, item)
        for detail in ret["items"]:
            for key in nullable("return.schema.json", "items"):
                assert detail[key] is None, (key, detail)
    for _, ful in resources(bodies, "returnFulfillment"):
        assert nullable(fulfillment) == {"returnFulfillmentOrderId", "status"}
        for key in nullable(fulfillment):
            assert ful[key] is None, (key, ful)
        for key in nullable(fulfillment, "tracking"):
            assert ful["tracking"][key] is None, (key, ful)
        for document in ful["documents"]:
            for key in nullable(fulfillment, "documents"):
                assert document.get(key, None) is None, document
    lasts = [body for _, body in bodies if "page" in body and body["page"]["next"] is None]
    assert lasts, "no last page with page.next null"


OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+02:00$")


@check("offset-timestamps")
def _offset_timestamps(api: Api) -> None:
    bodies = sample(api)
    stamps = [
        obj[key]
        for _, body in bodies
        for obj in objects(body)
        for key in ("createdAt", "updatedAt")
        if key in obj
    ]
    assert stamps
    assert all(OFFSET_TIME.match(s) for s in stamps), stamps
    # a rendered value sent back as both bounds selects exactly the returns of that instant
    listed = [(by, r) for by, r in resources(bodies, "return") if by.startswith("list")]
    assert listed or not (api.supports("listReturns") or api.supports("listOrderReturns"))
    for op_id, ret in listed:
        path = {"orderId": ret["orderId"]} if op_id == "listOrderReturns" else {}
        moment = ret["createdAt"]
        params = {"createdAt[from]": moment, "createdAt[to]": moment}
        found = {r["returnOrderId"] for r in api.ok(op_id, params=params, **path)["returns"]}
        same = datetime.fromisoformat(moment)
        assert found == {
            r["returnOrderId"]
            for by, r in listed
            if by == op_id
            and datetime.fromisoformat(r["createdAt"]) == same
            and r["orderId"] == path.get("orderId", r["orderId"])
        }


@check("string-quantities")
def _string_quantities(api: Api) -> None:
    quantities = [
        obj["quantity"] for _, body in sample(api) for obj in objects(body) if "quantity" in obj
    ]
    assert quantities
    assert all(isinstance(q, str) and q.isdigit() for q in quantities), quantities


def _ids(api: Api) -> list[str]:
    found = [
        obj[key]
        for _, body in sample(api)
        for obj in objects(body)
        for key in ID_KEYS
        if isinstance(obj.get(key), str)
    ]
    assert found
    return found


@check("numeric-ids")
def _numeric_ids(api: Api) -> None:
    ids = _ids(api)
    assert all(i.isdigit() for i in ids), [i for i in ids if not i.isdigit()]


@check("encoded-ids")
def _encoded_ids(api: Api) -> None:
    # sample() reads every return and fulfillment back with percent-encoded path segments
    ids = _ids(api)
    assert all("/" in i and ":" in i for i in ids), ids
    resource_ids = {i for i in ids if "/Return/" in i or "/ReverseDelivery/" in i}
    assert resource_ids or not api.supports("getReturn")
    assert all(set("/:?# %") <= set(i) for i in resource_ids), resource_ids
    order = api.profile.orders[0].id
    if api.supports("getReturn"):
        missing = "gid://shop/Return/nope #?%"
        body = api.error("getReturn", 404, "NOT_FOUND", orderId=order, id=missing)
        assert missing in body["message"]
    api.error("getOrder", 404, "NOT_FOUND", id=order + "/returns")


@check("platform-vocabulary")
def _platform_vocabulary(api: Api) -> None:
    vocab, behaviour = vocabularies(), api.profile.behaviour
    bodies = sample(api)
    returns = resources(bodies, "return")
    assert returns
    for _, ret in returns:
        assert ret["status"] in vocab.return_status  # the lifecycle depends on it
        for item in ret["returnItems"]:
            assert item["returnReason"] in behaviour.reason_names.values(), item
        for package in ret.get("packages", []):
            assert package["status"] in behaviour.package_status_names.values(), package
    for _, ful in resources(bodies, "returnFulfillment"):
        status = ful["status"]
        assert status is None or status in behaviour.fulfillment_status_names.values(), ful
        assert ful["package"]["status"] not in vocab.package_status
    if api.supports("createReturn"):  # requests still use the normalized reasons
        order = api.take_order()
        item = {"id": order.lines[0].id, "quantity": 1, "reason": "DEFECTIVE_ITEM"}
        body = {"return": {"items": [item]}}
        api.error("createReturn", 400, "INVALID_REQUEST", orderId=order.id, json=body)


@check("platform-statuses")
def _platform_statuses(api: Api) -> None:
    """Every return status on the wire is the platform's spelling (upper case, CANCELED), and
    the status filter takes the normalized value and that spelling alike."""
    names = api.profile.behaviour.return_status_names
    assert names["cancelled"] == "CANCELED"
    assert all(
        spelled == status.upper() for status, spelled in names.items() if status != "cancelled"
    )
    cancellable = api.actionable("cancelReturn") if api.supports("cancelReturn") else None
    if cancellable is not None:
        assert api.act("cancelReturn", *cancellable)["status"] == "CANCELED"
    returns = resources(sample(api), "return")
    assert returns
    for _, ret in returns:
        assert ret["status"] in names.values(), ret
    for op_id, path in (
        ("listReturns", {}),
        ("listOrderReturns", {"orderId": returns[0][1].get("orderId", "")}),
    ):
        if not api.supports(op_id) or (op_id == "listOrderReturns" and not path["orderId"]):
            continue
        for status, spelled in names.items():
            asked = [
                api.ok(op_id, params={"status": value}, **path)["returns"]
                for value in (status, spelled)
            ]
            assert asked[0] == asked[1], (op_id, status)
            assert all(r["status"] == spelled for r in asked[0]), (op_id, status)
        listed = api.ok(op_id, **path)["returns"]
        assert {r["status"] for r in listed} <= set(names.values())


@pytest.mark.parametrize(("name", "platform"), cases(sorted(CHECKS)))
def test_body_variation_on_the_wire(varied_api: Any, name: str, platform: str) -> None:
    CHECKS[name](varied_api(platform, [name]))
