"""The values a Piccolo `Table.update()` takes, keyed by column name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from piccolo.columns import Column


def column_values(values: Mapping[str, Any]) -> dict[Column | str, Any]:
    """`values` as `Table.update()` is typed to take them.

    Piccolo accepts column names as keys but types the argument `dict[Column | str, Any]`;
    a dict is invariant in its key, so our `dict[str, Any]` is refused by the type checker.
    One conversion here instead of a cast at every update (Piccolo copies the dict anyway).
    """
    return {name: value for name, value in values.items()}
