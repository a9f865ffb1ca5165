"""The JSON API under /api/v1: one module per domain, with its msgspec DTOs."""
