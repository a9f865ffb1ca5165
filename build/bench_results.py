"""The numbers one benchmark run measured, written as JSON so that two runs can be compared
(build/bench_compare.py prints what got slower by more than 20 %).

Every benchmark in build/ takes `--json FILE`. The file says when and where it was measured (the
commit, the load average, the cores), because a number from a busy machine is not a regression.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = 1
ROOT = Path(__file__).resolve().parents[1]


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


class Results:
    """Named measurements of one benchmark: a time in ms or s (lower is better) or a rate (higher is better)."""

    def __init__(self, benchmark: str) -> None:
        self.benchmark = benchmark
        self.values: dict[str, dict[str, Any]] = {}

    def add(self, name: str, value: float, unit: str = "ms", *, higher_is_better: bool = False) -> None:
        self.values[name] = {"value": round(float(value), 4), "unit": unit,
                             "better": "higher" if higher_is_better else "lower"}

    def as_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "benchmark": self.benchmark, "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": _commit(), "cpu_count": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
                "results": self.values}

    def write(self, path: Path | None) -> None:
        """Write the file when the run was asked for one (`--json FILE`), and say where."""
        if path is None:
            return
        path.write_text(json.dumps(self.as_json(), indent=1) + "\n", encoding="utf-8")
        print(f"results written to {path}")
