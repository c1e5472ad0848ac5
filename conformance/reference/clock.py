"""Timestamps of the reference store: made in UTC, rendered as the profile's Behaviour says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

# offset-timestamps: every timestamp in this offset, with microseconds, for the same instant
RENDER_OFFSET = timezone(timedelta(hours=2))


def now(precise: bool = False) -> str:
    """The current instant, RFC 3339 in UTC: milliseconds, or microseconds when `precise`."""
    spec = "microseconds" if precise else "milliseconds"
    return datetime.now(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    """An RFC 3339 date-time (already checked). Year 0 and leap seconds, which RFC 3339 allows
    and `datetime` cannot hold, become the nearest instant it can."""
    text = value.replace("z", "+00:00").replace("Z", "+00:00")
    if text.startswith("0000"):
        return datetime.min.replace(tzinfo=UTC)
    leap = text[17:19] == "60"
    if leap:
        text = text[:17] + "59" + text[19:]
    moment = datetime.fromisoformat(text)
    if leap:
        try:
            moment += timedelta(seconds=1)
        except OverflowError:
            moment = datetime.max.replace(tzinfo=UTC)
    return moment


def render_time(value: str, style: str) -> str:
    """`utc`: the stored text as it is; `offset`: the same instant at +02:00 with microseconds
    (`2026-10-01T10:30:00.000000+02:00`)."""
    if style == "utc":
        return value
    return parse_time(value).astimezone(RENDER_OFFSET).isoformat(timespec="microseconds")
