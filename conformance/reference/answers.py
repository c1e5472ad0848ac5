"""Every JSON answer of the reference server, success or error, leaves through `Answers`, so the
body-wide variations (error details, extra fields) reach every body: the dispatcher's, the auth
wrapper's 401, the router's 404 / 405, the throttle's 429 and the upstream errors' 502 / 503."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from conformance.contract import error_statuses
from conformance.reference.profile import Behaviour, Profile


class ApiError(Exception):
    """A contract error answer: HTTP status from the code, plus a message and details."""

    def __init__(
        self,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        # PLATFORM_ERROR is 502 or 503 (contract section 2): `status` picks another than the table's
        self.status = status or error_statuses()[code]
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "success": False,
            "code": self.status,
            "error": self.code,
            "message": self.message,
        }
        if self.details:
            body["details"] = self.details
        return body


# extra-fields: keys no schema names, added to every object of every body
def _extras(source: str) -> dict[str, Any]:
    return {
        "x_platform": {"raw": {"source": source}},
        "_links": {"docs": {"href": "https://developer.example/returns"}},
        "metadata": {},
    }


def with_extras(value: Any, extras: dict[str, Any]) -> Any:
    """`value` with `extras` added to every JSON object in it (the extras themselves aside)."""
    if isinstance(value, dict):
        return {**{k: with_extras(v, extras) for k, v in value.items()}, **extras}
    if isinstance(value, list):
        return [with_extras(v, extras) for v in value]
    return value


class Answers:
    """Builds the JSON responses of one platform, as its Behaviour shapes them."""

    def __init__(self, profile: Profile) -> None:
        self.behaviour: Behaviour = profile.behaviour
        self.extras = _extras(profile.imitates)

    def shape(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.behaviour.extra_fields:
            shaped: dict[str, Any] = with_extras(body, self.extras)
            return shaped
        return body

    def ok(
        self, body: dict[str, Any], status: int = 200, media_type: str | None = None
    ) -> JSONResponse:
        return JSONResponse(self.shape(body), status_code=status, media_type=media_type)

    def error_body(self, err: ApiError) -> dict[str, Any]:
        body = err.body()
        if self.behaviour.error_details and not body.get("details"):
            body["details"] = [{"message": err.message}]
        return self.shape(body)

    def error(self, err: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(
            self.error_body(err), status_code=err.status, headers={**err.headers, **(headers or {})}
        )
