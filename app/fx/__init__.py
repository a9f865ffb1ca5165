"""Exchange rates, the base currency and conversion (issue 16)."""
