"""The benchmarks' report says on which processor each of its sections was measured."""

import json
from pathlib import Path

from bench import report

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"


def test_a_section_carried_over_names_its_processor():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results["coding"] = {**results["coding"], "carried_over_from": "2026-01-02 03:04 UTC"}
    results["coding"]["cpu"] = "Processor X"
    md = report.markdown(results)
    assert "*(The next section is from the run of 2026-01-02 03:04 UTC, on Processor X.)*" in md
    assert f"| CPU | {results['machine']['cpu']} |" in md


def test_every_section_of_the_committed_results_has_its_processor():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    parts = [p for p, v in results.items() if p != "machine" and isinstance(v, dict)]
    assert parts and all(results[p].get("cpu") for p in parts)
