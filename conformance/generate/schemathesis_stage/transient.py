"""Transient answers schemathesis got, judged as the contract says (section 2, "Transient answers").

Schemathesis' client never sends a request again after a 502/503/504 (in 4.32 its
``request-retries`` covers network failures only, and its rate-limit mode 429 only), so its
``not_a_server_error`` would fail a connector for a store that failed once. Each request so
answered is sent again, once, through the suite's :class:`~conformance.target.Target`, which
retries per the contract (the pause, the budget) and says how it ended:

* answered (success or any non-transient status): the request needed a retry. That is counted on
  its operation, never a finding, and schemathesis' failures on the transient answer are dropped.
  The resend's own answer is not judged by schemathesis' checks (they need its case and run
  context, and the probes and schemathesis' other cases check the operation anyway), with one
  exception: a 5xx other than 501 on the resend is a 5xx on that input (``server_error``).
* the same 5xx every time while the requests around it succeed: schemathesis' failure stands (a
  5xx on that input, ``failing``).
* still refused after the budget: undecided, an ``inconclusive`` finding (``platform_error``; a
  timeout or lost connection on the resend gives its own inconclusive reason).

A transient 5xx wrote nothing (contract section 2), so sending a write again is safe; it is the
very request schemathesis sent (the same bytes, and so the suite's note on a create).
"""

from __future__ import annotations

import urllib.parse
from collections import Counter
from typing import Any, Protocol

from conformance.findings import Finding, Redactor
from conformance.generate.schemathesis_stage import adapter
from conformance.generate.schemathesis_stage.translate import CHECK_PREFIX, MAX_MESSAGE
from conformance.target import Auth, Reply, WritesNotAllowed
from conformance.verdicts import ReasonCode

__all__ = ["TRANSIENT", "Resender", "Transients"]

TRANSIENT = frozenset({502, 503, 504})  # 429 is throttling, screened apart (screen.drop_reason)
CHECK = CHECK_PREFIX + "not_a_server_error"  # every transient answer fails that check first

# A resend that ended without an answer to judge: the reason of the inconclusive finding.
_UNDECIDED: dict[str, str] = {
    ReasonCode.platform_error: ReasonCode.platform_error,
    ReasonCode.rate_limited: ReasonCode.platform_error,  # a transient 5xx after the budget
    ReasonCode.timeout: ReasonCode.timeout,
    ReasonCode.connection_error: ReasonCode.connection_error,
    "budget": ReasonCode.budget_exhausted,
}


class Resender(Protocol):
    """What the stage needs of the suite's Target."""

    base_url: str

    def call(
        self,
        method: str,
        path: str,
        *,
        raw_body: bytes | None = None,
        auth: Auth = "valid",
        route: str | None = None,
    ) -> Reply: ...


class Transients:
    """The transient answers of one stage run, each sent again once and classified."""

    def __init__(self, target: Resender, token: str, redactor: Redactor, seed: int) -> None:
        self.target = target
        self.token = token
        self.redactor = redactor
        self.seed = seed
        self.retried: list[tuple[str, tuple[str, ...]]] = []  # (operation, transient answers)
        self.findings: list[Finding] = []
        self.outcomes: Counter[str] = Counter()  # answered | persistent | undecided | unsent
        # id(response) → (the response, kept): several checks fail on one answer; it is sent
        # again once. The response is held so that its id is not reused meanwhile.
        self._decided: dict[int, tuple[Any, bool]] = {}

    def keep(self, op_id: str, response: Any) -> bool:
        """Whether schemathesis' failures on this transient answer stand (the same 5xx every
        time); False drops them, the outcome being recorded here."""
        decided = self._decided.get(id(response))
        if decided is not None:
            return decided[1]
        kept = self._classify(op_id, response)
        self._decided[id(response)] = (response, kept)
        return kept

    def _classify(self, op_id: str, response: Any) -> bool:
        first = str(int(response.status_code))
        sent = adapter.sent_request(response)
        try:
            reply = self.target.call(
                sent.method,
                self._path(sent.url),
                raw_body=sent.body,
                auth=self._auth(sent.authorization),
                route=op_id,  # judged among its own operation's requests (Target.call)
            )
        except WritesNotAllowed:
            # Cannot happen (a read-only run sends only GET); left as schemathesis judged it.
            self.outcomes["unsent"] += 1
            return True
        answers = (first, *reply.retried)
        self.retried.append((op_id, answers))
        status = reply.status
        if reply.problem in _UNDECIDED:
            self.outcomes["undecided"] += 1
            reason = _UNDECIDED[reply.problem]
            if reply.problem == ReasonCode.rate_limited and status == 429:
                reason = ReasonCode.rate_limited
            self._finding(op_id, reason, first, reply, "still refused after the retry budget")
            return False
        if status in TRANSIENT:
            # The Target gives a transient 5xx back as is only when the same request got the
            # same 5xx every time while the requests around it succeeded: a 5xx on that input.
            self.outcomes["persistent"] += 1
            return True
        self.outcomes["answered"] += 1
        if status is not None and status >= 500 and status != 501:
            self._finding(op_id, ReasonCode.server_error, first, reply, f"answered {status}")
        return False

    def _finding(self, op_id: str, reason: str, first: str, reply: Reply, what: str) -> None:
        retries = f" after {', '.join(reply.retried)}" if reply.retried else ""
        message = (
            f"schemathesis not_a_server_error: answered {first} (transient); sent again "
            f"through the suite{retries}: {what}"
        )
        self.findings.append(
            Finding(
                operation=op_id,
                reason=reason,
                check=CHECK,
                message=self.redactor.text(message)[:MAX_MESSAGE],
                evidence=(reply.exchange,),
                seed=self.seed,
            )
        )

    def _path(self, url: str) -> str:
        """The path and query of ``url`` below the target's base URL, encoded as sent."""
        base = self.target.base_url.rstrip("/")
        if url.startswith(base + "/") or url.startswith(base + "?"):
            return url[len(base) :]
        parts = urllib.parse.urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _auth(self, header: str | None) -> Auth:
        """The same credentials as sent: the token, none, or another (an invalid one)."""
        if header is None:
            return "none"
        return "valid" if header == f"Bearer {self.token}" else "invalid"

    def note(self) -> str | None:
        """One line for the run's notes, or None when nothing was sent again."""
        total = sum(self.outcomes.values())
        if not total:
            return None
        parts = []
        if n := self.outcomes["answered"]:
            parts.append(f"{n} then answered (counted as retried on their operations)")
        if n := self.outcomes["persistent"]:
            parts.append(f"{n} got the same 5xx every time (kept: server_error)")
        if n := self.outcomes["undecided"]:
            parts.append(f"{n} still refused after the retry budget (inconclusive)")
        if n := self.outcomes["unsent"]:
            parts.append(f"{n} could not be sent again in a read-only run (kept)")
        return (
            f"schemathesis: {total} request(s) answered 502/503/504 were sent again through "
            f"the suite: {'; '.join(parts)}"
        )
