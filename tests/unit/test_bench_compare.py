"""build/bench_compare.py: what counts as slower between two benchmark runs (issue 21, point 6)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "build"))
from bench_compare import compare, main, regressions
from bench_results import Results


def run(values: dict[str, tuple[float, str, bool]]) -> dict:
    results = Results("bench_pages")
    for name, (value, unit, higher) in values.items():
        results.add(name, value, unit, higher_is_better=higher)
    return results.as_json()


def test_a_time_that_grew_by_more_than_the_threshold_is_a_regression_and_a_rate_that_fell_too():
    before = run({"/invoices p99": (20.0, "ms", False), "/clients p99": (10.0, "ms", False),
                  "writes": (80.0, "/s", True), "gone": (1.0, "ms", False)})
    after = run({"/invoices p99": (25.0, "ms", False), "/clients p99": (11.9, "ms", False),
                 "writes": (60.0, "/s", True), "new": (3.0, "ms", False)})
    changes, added, gone = compare(before, after)
    assert {c.name for c in regressions(changes, 20)} == {"/invoices p99", "writes"}
    assert added == ["new"] and gone == ["gone"]
    assert regressions(changes, 40) == []


def test_the_command_exits_1_on_a_regression_and_0_otherwise(tmp_path, capsys):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(run({"pdf": (20.0, "ms", False)})))
    second.write_text(json.dumps(run({"pdf": (30.0, "ms", False)})))
    assert main([str(first), str(second)]) == 1
    assert "pdf" in capsys.readouterr().out
    assert main([str(second), str(first)]) == 0
    results = Results("x")
    results.add("zero before", 0.0)
    assert compare(results.as_json(), results.as_json())[0][0].ratio == 1.0
