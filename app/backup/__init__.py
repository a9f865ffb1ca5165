"""Encrypted backup bundles: export, verify, restore, and scheduled backups."""
