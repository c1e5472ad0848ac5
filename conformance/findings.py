"""What a probe observed: exchanges (redacted request/response pairs), findings and check tallies.

Redaction happens here, when an exchange is recorded, so nothing downstream (judge, results,
renderers) ever holds the token.
"""

from __future__ import annotations

import base64
import json
import shlex
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

REDACTED = "[REDACTED]"
MAX_BODY_CHARS = 4000


class Redactor:
    """Removes a secret, and its common encodings, from every string it is given."""

    def __init__(self, secrets: Iterable[str]) -> None:
        secrets = [secret for secret in secrets if secret]
        # Whole credentials, whatever their length: a short secret is left in free text (it
        # would match everywhere), never in the header that carries it.
        self._credentials = {f"Bearer {secret}" for secret in secrets}
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) < 4:
                continue
            forms.add(secret)
            forms.add(urllib.parse.quote(secret, safe=""))
            forms.add(urllib.parse.quote_plus(secret))
            for text in (secret, f"Bearer {secret}", f":{secret}"):
                encoded = base64.b64encode(text.encode()).decode()
                forms.add(encoded.rstrip("="))
                forms.add(base64.urlsafe_b64encode(text.encode()).decode().rstrip("="))
        self._forms = sorted(forms, key=len, reverse=True)

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        """Recorded request headers: an Authorization header that carries a secret becomes
        `Bearer [REDACTED]` (so a reproduction says `Bearer $CONFORMANCE_TOKEN`) whatever the
        secret's length; the other values are redacted as text."""
        return {
            name: f"Bearer {REDACTED}"
            if name.lower() == "authorization" and value.strip() in self._credentials
            else self.text(value)
            for name, value in headers.items()
        }

    def value(self, value: Any) -> Any:
        """Redact strings anywhere inside a JSON-like value (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        return value


def clip(body: Any) -> Any:
    """Keep evidence small: long text bodies are cut, JSON bodies are cut when serialised."""
    if isinstance(body, str):
        return body if len(body) <= MAX_BODY_CHARS else body[:MAX_BODY_CHARS] + "…[truncated]"
    text = json.dumps(body, ensure_ascii=False, default=str)
    if len(text) <= MAX_BODY_CHARS:
        return body
    return text[:MAX_BODY_CHARS] + "…[truncated]"


@dataclass(frozen=True)
class Exchange:
    """One request and what came back (or why nothing did), already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int | None
    response_headers: dict[str, str]
    response_body: Any
    error: str | None = None
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        response = None
        if self.status is not None or self.error is not None:
            response = {
                "status": self.status,
                "headers": self.response_headers,
                "body": self.response_body,
                "error": self.error,
            }
        return {
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": self.request_headers,
                "body": self.request_body,
            },
            "response": response,
            "elapsedMs": round(self.elapsed_ms, 2),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        req, resp = data["request"], data.get("response") or {}
        return cls(
            method=req["method"],
            url=req["url"],
            request_headers=dict(req.get("headers", {})),
            request_body=req.get("body"),
            status=resp.get("status"),
            response_headers=dict(resp.get("headers", {})),
            response_body=resp.get("body"),
            error=resp.get("error"),
            elapsed_ms=float(data.get("elapsedMs", 0.0)),
        )

    def curl(self) -> str:
        """A copy-pasteable reproduction; the token comes from $CONFORMANCE_TOKEN."""
        parts = ["curl", "-sS", "-X", self.method, shlex.quote(self.url)]
        auth = self.request_headers.get("authorization")
        if auth is not None:
            value = "Bearer $CONFORMANCE_TOKEN" if REDACTED in auth else auth
            parts += ["-H", f'"Authorization: {value}"']
        if self.request_body is not None:
            body = self.request_body
            text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            parts += ["-H", "'Content-Type: application/json'", "--data", shlex.quote(text)]
        return " ".join(parts)


@dataclass(frozen=True)
class Finding:
    """A reason code on one operation, with the exchanges that show it."""

    operation: str
    reason: str
    check: str
    message: str
    evidence: tuple[Exchange, ...] = ()
    steps: tuple[str, ...] = ()
    seed: int | None = None
    # A shell script that replays the whole sequence on fresh data (conformance.repro), for a
    # finding that needs earlier steps: the last exchange's curl alone would not show it.
    script: str | None = None

    @property
    def reproduce(self) -> str | None:
        return self.evidence[-1].curl() if self.evidence else None

    @property
    def key(self) -> tuple[str, str, str]:
        """Findings with the same key say the same thing; the first one is kept."""
        return (self.operation, self.reason, self.check)

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "check": self.check,
            "message": self.message,
            "evidence": [e.to_json() for e in self.evidence],
            "reproduce": self.reproduce,
            "steps": list(self.steps),
            "seed": self.seed,
            "script": self.script,
        }

    @classmethod
    def from_json(cls, operation: str, data: dict[str, Any]) -> Finding:
        return cls(
            operation=operation,
            reason=data["reason"],
            check=data["check"],
            message=data["message"],
            evidence=tuple(Exchange.from_json(e) for e in data.get("evidence", [])),
            steps=tuple(data.get("steps", [])),
            seed=data.get("seed"),
            script=data.get("script"),
        )


@dataclass
class Observations:
    """Everything the probes of one platform saw, per operation: findings, checks, notes."""

    findings: list[Finding] = field(default_factory=list)
    checks_run: dict[str, int] = field(default_factory=dict)
    checks_passed: dict[str, int] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    succeeded: set[str] = field(default_factory=set)
    platform_notes: list[str] = field(default_factory=list)  # about the run, not one operation
    # operation → check name → [run, passed]: one line per check in JUnit and the reports
    by_check: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # operation → the requests that needed a retry: for each, its transient answers (contract
    # section 2: a request that succeeds on retry is a note, saying how many needed one)
    retried_requests: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    # operation → how many of those requests still had no answer after the retry budget
    retries_ran_out: dict[str, int] = field(default_factory=dict)

    def success(self, operation: str) -> None:
        """A well-formed request to the operation succeeded: the precondition of `supported`."""
        self.succeeded.add(operation)
        self.passed(operation, "succeeds")

    def _tally(self, operation: str, check: str, passed: bool) -> None:
        self.checks_run[operation] = self.checks_run.get(operation, 0) + 1
        tally = self.by_check.setdefault(operation, {}).setdefault(check, [0, 0])
        tally[0] += 1
        if passed:
            self.checks_passed[operation] = self.checks_passed.get(operation, 0) + 1
            tally[1] += 1

    def passed(self, operation: str, check: str = "wire") -> None:
        self._tally(operation, check, True)

    def failed(self, finding: Finding) -> None:
        self._tally(finding.operation, finding.check, False)
        self.findings.append(finding)

    def retried(self, operation: str, answers: tuple[str, ...], recovered: bool = True) -> None:
        """One request of `operation` was sent again after the transient `answers`; not
        `recovered`: it still got only transient answers when the retry budget ran out."""
        if answers:
            self.retried_requests.setdefault(operation, []).append(answers)
            if not recovered:
                self.retries_ran_out[operation] = self.retries_ran_out.get(operation, 0) + 1

    def note(self, operation: str, text: str) -> None:
        bucket = self.notes.setdefault(operation, [])
        if text not in bucket:
            bucket.append(text)

    def for_operation(self, operation: str) -> list[Finding]:
        seen: set[tuple[str, str, str]] = set()
        kept = []
        for finding in self.findings:
            if finding.operation == operation and finding.key not in seen:
                seen.add(finding.key)
                kept.append(finding)
        return kept
