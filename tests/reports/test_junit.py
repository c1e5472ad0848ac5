"""JUnit XML: parses with the standard library, one file and one testsuite per platform, and
its counts match the matrix it was rendered from."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from reportkit import platform, run_of  # type: ignore[import-not-found]

from conformance import gate
from conformance.reference import profile_names
from conformance.render.junit import render_platform
from conformance.verdicts import Verdict


def _suite(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    for attr in ("tests", "failures", "errors"):
        assert root.get(attr) == suites[0].get(attr)
    assert root.get("skipped") is None  # junit-10.xsd: `skipped` only on <testsuite>
    return suites[0]


def _expected_cases(cell: dict[str, Any]) -> set[str]:
    """The checks a cell's matrix names: tallied ones, those findings name, and `declared`."""
    names = set(cell["checks"].get("byName", {})) | {f["check"] for f in cell["findings"]}
    if cell.get("declared"):
        names.add("declared")
    return names


@pytest.mark.parametrize("name", profile_names())
def test_junit_counts_match_the_matrix(reference_run: Path, name: str) -> None:
    suite = _suite(reference_run / "reports" / name / "junit.xml")
    data = json.loads((reference_run / "capability_matrices" / f"{name}.json").read_text())
    assert suite.get("name") == name
    cases = suite.findall("testcase")
    assert int(suite.get("tests", -1)) == len(cases)
    assert int(suite.get("failures", -1)) == len(suite.findall("testcase/failure"))
    assert int(suite.get("errors", -1)) == len(suite.findall("testcase/error"))
    assert int(suite.get("skipped", -1)) == len(suite.findall("testcase/skipped"))

    by_class: dict[str, set[str]] = {}
    for case in cases:
        by_class.setdefault(case.get("classname", ""), set()).add(case.get("name", ""))
    assert by_class.pop("returns") == {"evidence"}
    assert by_class == {
        f"returns.{op}": _expected_cases(cell) for op, cell in data["operations"].items()
    }
    failing = {f"returns.{op}" for op, c in data["operations"].items() if c["status"] == "failing"}
    assert {c.get("classname") for c in cases if c.find("failure") is not None} == failing
    unsupported = {
        f"returns.{op}" for op, c in data["operations"].items() if c["status"] == "unsupported"
    }
    assert {c.get("classname") for c in cases if c.find("skipped") is not None} == unsupported
    for case in cases:
        skipped = case.find("skipped")
        if skipped is not None:
            assert skipped.get("message", "").startswith("unsupported: not_")

    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    prov = data["provenance"]
    assert props["seed"] == str(prov["seed"])
    assert props["suiteVersion"] == prov["suiteVersion"]
    assert props["contractVersion"] == prov["contractVersion"]
    assert props["schemaHash"] == prov["schemaHash"]


def test_several_platforms_never_share_a_file(reference_run: Path) -> None:
    files = sorted((reference_run / "reports").glob("*/junit.xml"))
    assert [f.parent.name for f in files] == sorted(profile_names())
    assert sorted(_suite(f).get("name") for f in files) == sorted(profile_names())


def test_failure_carries_reason_evidence_and_curl() -> None:
    run = run_of(
        platform("shop", {"approveReturn": Verdict.failing, "listReturns": Verdict.inconclusive})
    )
    decision = gate.decide(run, {Verdict.failing, Verdict.inconclusive})
    root = ET.fromstring(render_platform(run.platforms[0], decision))
    failure = root.find(".//testcase[@classname='returns.approveReturn'][@name='effect']/failure")
    assert failure is not None
    assert failure.get("type") == "effect_missing"
    assert "curl -sS -X POST" in (failure.text or "")
    assert "GET return -> 200" in (failure.text or "")  # the steps
    error = root.find(".//testcase[@classname='returns.listReturns']/error")
    assert error is not None and error.get("type") == "rate_limited"


def test_control_characters_in_evidence_stay_valid_xml() -> None:
    run = run_of(platform("shop", {"getReturn": Verdict.failing}))
    cell = run.platforms[0].cell("getReturn")
    finding = dataclasses.replace(cell.findings[0], message="bad \x00\x1b byte")
    shop = dataclasses.replace(
        run.platforms[0],
        operations=tuple(
            dataclasses.replace(c, findings=(finding,)) if c is cell else c
            for c in run.platforms[0].operations
        ),
    )
    ET.fromstring(render_platform(shop, gate.decide(run_of(shop))))


XSD = Path(__file__).parent / "data" / "junit-10.xsd"


@pytest.mark.parametrize("name", profile_names())
def test_reference_junit_validates_against_pytests_xsd(reference_run: Path, name: str) -> None:
    import xmlschema

    xmlschema.XMLSchema(XSD).validate(reference_run / "reports" / name / "junit.xml")


def test_every_case_kind_validates_against_pytests_xsd() -> None:
    """Failures, skips of every kind and expected failures: each valid as pytest's schema says.

    junit-10.xsd names the error element `errors`, where Ant's JUnit format (and every CI reader
    of it, pytest's own output included) uses `error`: that one element is the only deviation.
    """
    import xmlschema

    verdicts = {
        "approveReturn": Verdict.failing,
        "getReturn": Verdict.partial,
        "listReturns": Verdict.inconclusive,
        "createReturn": Verdict.untested,
        "cancelReturn": Verdict.unsupported,
    }
    run = run_of(platform("shop", verdicts))
    schema = xmlschema.XMLSchema(XSD)
    text = render_platform(run.platforms[0], gate.decide(run))
    assert "<failure" in text and "<skipped" in text
    schema.validate(text)
    gated = render_platform(run.platforms[0], gate.decide(run, {Verdict.inconclusive}))
    assert "<error " in gated
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        schema.validate(gated)
    schema.validate(gated.replace("<error ", "<errors ").replace("</error>", "</errors>"))
