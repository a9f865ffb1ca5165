"""Hypothesis settings for the property tests.

No per-example deadline: the properties are about correctness, and CI machines (or two
xdist workers beside a browser test) are too uneven for a 200 ms limit to mean anything;
speed is the benchmarks' job (DESIGN.md, "Performance budgets").
"""

from hypothesis import HealthCheck, settings

settings.register_profile("counterfoil", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("counterfoil")
