"""What every request body of the JSON API is built on."""

from __future__ import annotations

import msgspec


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """A request body (a `...In` struct). A field the endpoint does not know is refused with 422 naming it
    (app.web.responses.on_litestar_validation), never dropped: a misspelt `nmae` would otherwise answer 200
    and change nothing. Subclasses inherit the rule and add their own options (omit_defaults, kw_only)."""
