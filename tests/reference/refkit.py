"""The reference-server tests' toolkit: a contract-shaped client and strict answer checks.

`Api.call(op_id, **path)` sends one operation (each path parameter as one percent-encoded
segment: ids are opaque); `Api.ok(...)` asserts its success answer (status, content type,
envelope, response schema) and `Api.error(...)` an error answer (status, `error` code, `code` ==
status, error.schema.json). The expectations follow the profile's Behaviour where the contract
leaves room (the create status, extra fields). Imported by the test modules beside it (pytest puts
this directory on sys.path, as it has no __init__.py); the fixtures are in conftest.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from conformance.contract import operation
from conformance.reference import Profile, load_profile, profile_names
from conformance.schemas import violations
from conformance.statuses import return_status

# Contract section 2: the success envelope key of every operation (and of the order reads).
ENVELOPE_KEY = {
    "listReturns": "returns",
    "listOrderReturns": "returns",
    "getReturn": "return",
    "createReturn": "return",
    "cancelReturn": "return",
    "approveReturn": "return",
    "rejectReturn": "return",
    "listReturnFulfillments": "returnFulfillments",
    "getReturnFulfillment": "returnFulfillment",
    "createReturnFulfillment": "returnFulfillment",
    "listOrders": "orders",
    "getOrder": "order",
}
# Contract section 3: success codes. Reads and actions 200, creates 201.
SUCCESS_STATUS = {op_id: 201 if op_id.startswith("create") else 200 for op_id in ENVELOPE_KEY}
GATED = {"not_allowed": (403, "NOT_ALLOWED"), "not_supported": (501, "NOT_SUPPORTED")}
# Keys the extra-fields variation adds to every object (no schema names them).
EXTRA_KEYS = frozenset({"x_platform", "_links", "metadata"})


def body_of(response: httpx.Response) -> Any:
    assert response.headers.get("content-type", "").split(";")[0] == "application/json", (
        response.status_code,
        response.headers.get("content-type"),
        response.text[:300],
    )
    assert "Traceback" not in response.text
    return response.json()


def expect_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is the contract's error `code` with HTTP `status`, in error.schema.json shape."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: expected {status} {code}, got "
        f"{response.status_code} {response.text[:300]}"
    )
    body = body_of(response)
    assert violations("error.schema.json", body) == [], body
    assert body["code"] == status, body
    assert body["error"] == code, body
    return dict(body)


def expect_ok(
    response: httpx.Response, op_id: str, status: int | None = None, extra: bool = False
) -> dict[str, Any]:
    """The answer is the success of `op_id`: status, envelope and the operation's schema;
    `extra`: the envelope may carry the extra-fields variation's keys too."""
    status = status or SUCCESS_STATUS[op_id]
    assert response.status_code == status, (
        f"{op_id} {response.request.method} {response.request.url}: expected {status}, got "
        f"{response.status_code} {response.text[:300]}"
    )
    body = body_of(response)
    assert body.get("success") is True, body
    key = ENVELOPE_KEY[op_id]
    assert key in body, body
    # `{"success": true, "<key>": ...}`; only lists may carry `page`
    others = set(body) - {"success", key} - (EXTRA_KEYS if extra else set())
    assert others <= ({"page"} if key.endswith("s") else set()), (op_id, sorted(body))
    problems = violations(operation(op_id).response, body)
    assert problems == [], (op_id, problems)
    return dict(body)


class Api:
    """One running reference platform, driven operation by operation over HTTP."""

    def __init__(self, base_url: str, client: httpx.Client, profile: Profile) -> None:
        self.base_url = base_url
        self.client = client
        self.profile = profile
        self._taken: set[str] = set()

    # ---- raw calls ----

    def call(
        self,
        op_id: str,
        *,
        json: Any = None,
        content: bytes | str | None = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        **path: str,
    ) -> httpx.Response:
        return self.client.request(
            operation(op_id).method,
            url_path(op_id, **path),
            json=json,
            content=content,
            params=params,
            headers=headers,
        )

    def call_as(
        self, authorization: str | None, op_id: str, *, json: Any = None, **path: str
    ) -> httpx.Response:
        """`op_id` with another Authorization header, or none at all."""
        op = operation(op_id)
        request = self.client.build_request(op.method, url_path(op_id, **path), json=json)
        del request.headers["Authorization"]
        if authorization is not None:
            request.headers["Authorization"] = authorization
        return self.client.send(request)

    def ok(self, op_id: str, status: int | None = None, **kwargs: Any) -> dict[str, Any]:
        behaviour = self.profile.behaviour
        if status is None and op_id.startswith("create"):
            status = behaviour.create_status
        return expect_ok(self.call(op_id, **kwargs), op_id, status, behaviour.extra_fields)

    def error(self, op_id: str, status: int, code: str, **kwargs: Any) -> dict[str, Any]:
        return expect_error(self.call(op_id, **kwargs), status, code)

    error_of = staticmethod(expect_error)
    ok_of = staticmethod(expect_ok)

    def supports(self, op_id: str) -> bool:
        return self.profile.support[op_id] == "ok"

    # ---- state ----

    def get_return(self, order_id: str, return_id: str) -> dict[str, Any]:
        return self.ok("getReturn", orderId=order_id, id=return_id)["return"]

    def fresh_orders(self) -> list[Any]:
        """Orders of the profile's data that no seeded return touches, not yet handed out."""
        seeded = {seed.order for seed in self.profile.returns}
        return [o for o in self.profile.orders if o.id not in seeded and o.id not in self._taken]

    def take_order(self) -> Any:
        order = self.fresh_orders()[0]
        self._taken.add(order.id)
        return order

    def create(
        self, order_id: str, items: list[tuple[str, int]], reason: str = "other", **extra: Any
    ) -> dict[str, Any]:
        body = {
            "return": {
                "items": [{"id": line, "quantity": q, "reason": reason} for line, q in items],
                **extra,
            }
        }
        return self.ok("createReturn", orderId=order_id, json=body)["return"]

    def act(self, op_id: str, order_id: str, return_id: str, **kwargs: Any) -> dict[str, Any]:
        return self.ok(op_id, orderId=order_id, id=return_id, **kwargs)["return"]

    def actionable(self, op_id: str) -> tuple[str, str] | None:
        """(orderId, returnId) of a return the action `op_id` may act on: requested, or for
        cancelReturn any status of the profile's `cancel_from`; None when there is none."""
        behaviour = self.profile.behaviour
        starts = behaviour.cancel_from if op_id == "cancelReturn" else ("requested",)
        return next(filter(None, map(self.return_in, starts)), None)

    def return_in(self, status: str) -> tuple[str, str] | None:
        """(orderId, returnId) of a return in `status` that no earlier call handed out: a seeded
        one, else one made through the API where the profile allows; None when there is none."""
        for seed in self.profile.returns:
            if seed.status == status and seed.id not in self._taken:
                self._taken.add(seed.id)
                return seed.order, seed.id
        behaviour = self.profile.behaviour
        if not self.supports("createReturn") or not self.fresh_orders():
            return None
        made = self._made_status_path(status)
        if made is None:
            return None
        order = self.take_order()
        ret = self.create(order.id, [(order.lines[0].id, 1)])
        assert return_status(ret["status"]) == behaviour.new_return_status
        for op_id in made:
            ret = self.act(op_id, order.id, ret["returnOrderId"])
        assert return_status(ret["status"]) == status
        return order.id, ret["returnOrderId"]

    def _made_status_path(self, status: str) -> list[str] | None:
        """The actions that take a new return to `status`, or None when the profile can't."""
        new = self.profile.behaviour.new_return_status
        paths = {
            "requested": [],
            "approved": ["approveReturn"] if new == "requested" else [],
            "rejected": ["rejectReturn"],
            "cancelled": ["cancelReturn"],
        }
        if status not in paths:
            return None
        steps = paths[status]
        if status == "requested" and new != "requested":
            return None
        if status == "rejected" and new != "requested":
            return None
        if status == "cancelled" and new not in self.profile.behaviour.cancel_from:
            return None
        if all(self.supports(op_id) for op_id in steps):
            return steps
        return None

    def fulfillment(self) -> tuple[str, str, str] | None:
        """(orderId, returnId, fulfillmentId): seeded, else made through the API, else None."""
        for seed in self.profile.returns:
            for ful in seed.fulfillments:
                if ful.id not in self._taken:
                    self._taken.add(ful.id)
                    return seed.order, seed.id, ful.id
        if not self.supports("createReturnFulfillment"):
            return None
        found = self.return_in("approved")
        if found is None:
            return None
        order_id, return_id = found
        ful = self.ok(
            "createReturnFulfillment", orderId=order_id, returnId=return_id, json=tracking_body()
        )["returnFulfillment"]
        return order_id, return_id, ful["id"]

    def snapshot(self) -> dict[str, Any]:
        """Everything a client can read about the returns: compared before and after bad input."""
        state: dict[str, Any] = {}
        for order in self.profile.orders:
            if self.supports("listOrderReturns"):
                state[order.id] = self.ok(
                    "listOrderReturns", orderId=order.id, params={"limit": 250}
                )["returns"]
        if self.supports("listReturns"):
            state["*"] = collect(self, "listReturns", {"limit": 250})
        if self.supports("getReturn"):
            known = {
                (r["orderId"], r["returnOrderId"]) for key, rets in state.items() for r in rets
            }
            known |= {(seed.order, seed.id) for seed in self.profile.returns}
            for order_id, return_id in sorted(known):
                state[f"{order_id}/{return_id}"] = self.get_return(order_id, return_id)
                if self.supports("listReturnFulfillments"):
                    state[f"{order_id}/{return_id}/f"] = self.ok(
                        "listReturnFulfillments", orderId=order_id, returnId=return_id
                    )["returnFulfillments"]
        return state


def url_path(op_id: str, **path: str) -> str:
    """The operation's path, each parameter one percent-encoded segment (`/` is `%2F`)."""
    url = operation(op_id).path
    for name, value in path.items():
        url = url.replace("{" + name + "}", quote(value, safe=""))
    return url


def tracking_body(number: str = "1Z999AA10000000001", **extra: Any) -> dict[str, Any]:
    return {
        "returnFulfillment": {
            "tracking": {"number": number, "company": "UPS", "url": "https://tracking.example/1Z"},
            **extra,
        }
    }


def collect(api: Api, op_id: str, params: dict[str, Any], **path: str) -> list[dict[str, Any]]:
    """Every item of a list, following `page.next` until null (at most 1000 pages)."""
    key = ENVELOPE_KEY[op_id]
    items: list[dict[str, Any]] = []
    query = dict(params)
    for _ in range(1000):
        body = api.ok(op_id, params=query, **path)
        items.extend(body[key])
        token = (body.get("page") or {}).get("next")
        if token is None:
            return items
        query = {**params, "page": token}
    raise AssertionError(f"{op_id}: page.next never became null")


def profiles_where(*every: str, some: tuple[str, ...] = ()) -> list[str]:
    """The reference profiles that support every operation in `every` and at least one in
    `some`, read from the profile files: a test is parametrized over the profiles it applies to,
    instead of being skipped on the others."""
    found = []
    for name in profile_names():
        table = load_profile(name).support
        if all(table[op] == "ok" for op in every) and (
            not some or any(table[op] == "ok" for op in some)
        ):
            found.append(name)
    assert found, f"no reference profile supports {every} and one of {some}: fix the test"
    return found
