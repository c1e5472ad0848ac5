"""Stage 2 of a run: probes exercise the ten operations and record what they observe.

`reads` (existing data, lists, pagination, filters) → `lifecycle` (writes and their effects) →
`negative` (auth, unknown ids, invalid input). Probes never decide verdicts: they record findings
and passed checks on the operation that answered; `judge.py` decides.
"""

from conformance.probes.lifecycle import probe_lifecycle
from conformance.probes.negative import probe_negative
from conformance.probes.reads import probe_reads
from conformance.probes.session import Session, Settings

__all__ = ["Session", "Settings", "probe_lifecycle", "probe_negative", "probe_reads"]
