"""Compare two benchmark result files (written with `--json FILE` by any build/bench_*.py) and print
what got slower (or, for a rate, lower) by more than the threshold, 20 % unless told.

    .venv/bin/python build/bench_compare.py BEFORE.json AFTER.json [--threshold 20]

Exits 1 when something regressed, 0 otherwise. Both files' load averages are printed: a number
measured on a busy machine is a reason to measure again, not a verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Change:
    name: str
    before: float
    after: float
    unit: str
    higher_is_better: bool

    @property
    def ratio(self) -> float:
        """How many times worse (>1) or better (<1) the after value is, whichever way is better."""
        if self.higher_is_better:
            return self.before / self.after if self.after else float("inf")
        return self.after / self.before if self.before else (float("inf") if self.after else 1.0)

    def line(self) -> str:
        percent = (self.ratio - 1) * 100
        return f"{self.name:60s} {self.before:10.2f} -> {self.after:10.2f} {self.unit:5s} ({percent:+.0f} %)"


def compare(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[Change], list[str], list[str]]:
    """Every measurement both runs have, and the names only one of them has (added, gone)."""
    old, new = before["results"], after["results"]
    changes = [Change(name, float(old[name]["value"]), float(new[name]["value"]), new[name]["unit"],
                      new[name].get("better") == "higher")
               for name in new if name in old]
    return changes, sorted(set(new) - set(old)), sorted(set(old) - set(new))


def regressions(changes: list[Change], threshold_percent: float) -> list[Change]:
    return [change for change in changes if change.ratio > 1 + threshold_percent / 100]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--threshold", type=float, default=20.0, help="percent worse that counts (default 20)")
    args = parser.parse_args(argv)
    before, after = (json.loads(path.read_text(encoding="utf-8")) for path in (args.before, args.after))
    if before.get("benchmark") != after.get("benchmark"):
        print(f"note: comparing {before.get('benchmark')} with {after.get('benchmark')}")
    for label, run in (("before", before), ("after", after)):
        print(f"{label}: {run.get('benchmark')} at {run.get('at')} on commit {run.get('commit') or '?'}, "
              f"load average {run.get('load_average')}, {run.get('cpu_count')} cores")
    changes, added, gone = compare(before, after)
    worse = regressions(changes, args.threshold)
    print(f"\nslower by more than {args.threshold:.0f} %: {len(worse)} of {len(changes)}")
    for change in sorted(worse, key=lambda c: -c.ratio):
        print("  " + change.line())
    better = [c for c in changes if c.ratio < 1 / (1 + args.threshold / 100)]
    if better:
        print(f"faster by more than {args.threshold:.0f} %: {len(better)}")
        for change in sorted(better, key=lambda c: c.ratio):
            print("  " + change.line())
    for label, names in (("only after", added), ("only before", gone)):
        if names:
            print(f"{label}: {', '.join(names)}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
