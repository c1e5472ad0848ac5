"""JUnit XML, one file per platform (`reports/<platform>/junit.xml`), so that several platforms of
a run, or several CI jobs, never overwrite each other.

One `<testsuite>` per platform; one `<testcase classname="returns.<operationId>" name="<check>">`
per case of `conformance.gate.cases()`: `<failure type="<reason code>">` for a contract violation
(or overclaim / regression / `xpass_strict` for a stale expected failure), `<error>` only when the
suite itself could not decide, `<skipped>` with the reason for unsupported / untested /
inconclusive and `type="xfail"` for an expected failure. Built with the stdlib ElementTree; the
renderer only maps cases to elements.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conformance.gate import Case, CaseStatus, Decision, cases
from conformance.render.terminal import finding_text
from conformance.results import PlatformResult

# XML 1.0 forbids most control characters; evidence bodies can hold anything.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=_clean(value))


def _testcase(suite: ET.Element, case: Case) -> None:
    element = ET.SubElement(suite, "testcase", classname=case.classname, name=case.name)
    text = _clean("\n\n".join(finding_text(f) for f in case.findings))
    message = _clean(case.message)
    if case.status == CaseStatus.failed:
        node = ET.SubElement(element, "failure", type=case.kind, message=message)
        node.text = text or message
    elif case.status == CaseStatus.error:
        node = ET.SubElement(element, "error", type=case.kind, message=message)
        node.text = text or message
    elif case.status in (CaseStatus.skipped, CaseStatus.xfailed):
        ET.SubElement(element, "skipped", type=case.kind, message=message)
        if text:
            ET.SubElement(element, "system-out").text = text
    elif text:  # passed with a note (partial, underclaim): keep the evidence readable
        ET.SubElement(element, "system-out").text = message + "\n\n" + text


def render_platform(platform: PlatformResult, decision: Decision) -> str:
    """The platform's JUnit XML document (a `<testsuites>` holding its one `<testsuite>`)."""
    found = cases(platform, decision)
    count = {status: sum(c.status == status for c in found) for status in CaseStatus}
    prov = platform.provenance
    totals = {
        "tests": str(len(found)),
        "failures": str(count[CaseStatus.failed]),
        "errors": str(count[CaseStatus.error]),
        "skipped": str(count[CaseStatus.skipped] + count[CaseStatus.xfailed]),
        "time": f"{prov.duration_seconds:.3f}",
    }
    # pytest's junit-10.xsd allows no `skipped` on <testsuites>: only on the <testsuite>.
    overall = {k: v for k, v in totals.items() if k != "skipped"}
    root = ET.Element("testsuites", {"name": "returns-conformance", **overall})
    suite = ET.SubElement(
        root, "testsuite", {"name": platform.name, "timestamp": prov.started_at, **totals}
    )
    _properties(
        suite,
        {
            "platform": platform.name,
            "imitates": platform.imitates or "",
            "target": platform.target,
            "seed": str(prov.seed),
            "suiteVersion": prov.suite_version,
            "contractVersion": prov.contract_version,
            "schemaHash": prov.schema_hash,
            "generatedAt": prov.generated_at,
            "writesAllowed": str(prov.writes_allowed).lower(),
            "maxExamples": str(prov.max_examples),
            "command": prov.command,
            "failOn": ",".join(sorted(v.value for v in decision.fail_on)),
            "declaredSource": prov.declared_source or "",
            "baselineSource": prov.baseline_source or "",
            "expectedFailuresSource": prov.expected_failures_source or "",
        },
    )
    for case in found:
        _testcase(suite, case)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
