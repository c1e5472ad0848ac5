"""The suite as pytest items: `pytest -p conformance.suite.plugin --pyargs conformance.suite`.

For teams whose gate is pytest: the same engine runs once per session, and every case of
`conformance.gate.cases()` (one per operation check, plus the declared / baseline / expected
comparisons) becomes one test item with the same outcome the CLI and JUnit report.
"""
