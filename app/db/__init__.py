"""Database: the SQLite engine, the single writer, and migrations."""
