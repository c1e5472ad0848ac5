"""What the gate's inputs say about a cell, stored with it in the matrix: the connector's
declared claim and its drift, the baseline's verdict and the change since, an expected failure.

`conformance.gate` fills these in; the results model only carries them, so they live apart from
the verdicts they annotate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conformance.verdicts import Verdict


class Claim(StrEnum):
    """What a connector declares for an operation in its manifest."""

    supported = "supported"
    """The connector claims the operation works as the contract says."""
    partial = "partial"
    """The connector claims it works with deviations a client can live with."""
    unsupported = "unsupported"
    """The connector says the platform (or the connector) lacks the operation."""


class Drift(StrEnum):
    """A declared claim that the observed verdict contradicts (rules in conformance.gate)."""

    overclaim = "overclaim"
    """Declared better than observed: readers of the claim would be misled. Fails the gate."""
    underclaim = "underclaim"
    """Declared worse than observed: a capability goes unadvertised. Reported only."""


class Change(StrEnum):
    """How a cell moved since the baseline (order in conformance.gate)."""

    new = "new"
    """The baseline has no such platform."""
    unchanged = "unchanged"
    """Same verdict as the baseline."""
    fixed = "fixed"
    """Better than the baseline."""
    regressed = "regressed"
    """Worse than the baseline. Fails the gate."""
    unverified = "unverified"
    """One side is inconclusive or untested, so better or worse cannot be told."""


@dataclass(frozen=True)
class Declared:
    """One operation's line of a manifest: the claim and why."""

    status: Claim
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Declared:
        return cls(Claim(data["status"]), data.get("note", ""))


@dataclass(frozen=True)
class BaselineCell:
    """The same cell in the baseline matrix, and how this run's cell compares."""

    status: Verdict | None  # None: the baseline has no such platform
    reasons: tuple[str, ...]
    change: Change

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value if self.status else None,
            "reasons": list(self.reasons),
            "change": self.change.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BaselineCell:
        status = data.get("status")
        return cls(
            Verdict(status) if status else None,
            tuple(data.get("reasons", [])),
            Change(data["change"]),
        )


@dataclass(frozen=True)
class Expectation:
    """An expected failure: the cell is known to fail, for a stated reason."""

    reason: str
    codes: tuple[str, ...] = ()  # if given, only these reason codes are expected

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "codes": list(self.codes)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Expectation:
        return cls(data["reason"], tuple(data.get("codes", [])))
