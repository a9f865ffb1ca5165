"""Counterfoil: billing and back office that runs on the user's own computer."""

__version__ = "0.1.0"
