"""`counterfoil import` as a real process: a summary and exit 0, the problems per row and exit 1 (nothing
written), --dry-run, --mapping, and `counterfoil check` after."""

from __future__ import annotations

import json
from pathlib import Path

from tests.http.test_cli import cli, rows

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"


def test_import_prints_a_summary_and_a_second_time_changes_nothing(tmp_path: Path):
    data = tmp_path / "data"
    dry = cli("import", str(FIXTURES / "invoiceninja_clients.csv"), "--data-dir", str(data), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Invoice Ninja v5, clients, 2 rows" in dry.stdout and "Dry run: would import 2 clients" in dry.stdout
    assert rows(data, "SELECT count(*) FROM client") == [(0,)]
    done = cli("import", str(FIXTURES / "invoiceninja_clients.csv"), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert "Imported 2 clients" in done.stdout and "rows/s" in done.stdout
    again = cli("import", str(FIXTURES / "invoiceninja_clients.csv"), "--data-dir", str(data))
    assert again.returncode == 0 and "already there, unchanged: 2 clients" in again.stdout
    assert rows(data, "SELECT count(*) FROM client") == [(2,)]
    assert cli("check", "--data-dir", str(data)).returncode == 0


def test_problems_are_listed_per_row_with_exit_1_and_nothing_written(tmp_path: Path):
    data = tmp_path / "data"
    result = cli("import", str(FIXTURES / "invoices.csv"), "--data-dir", str(data))
    assert result.returncode == 1
    assert "invoices.csv, row 2: OLD-2025-001: the client Acme Builders Ltd is neither in the file" in result.stderr
    assert "nothing was imported" in result.stderr
    assert rows(data, "SELECT count(*) FROM document") == [(0,)]
    assert list((data / "imports").iterdir()) == []


def test_a_folder_with_a_mapping_file(tmp_path: Path):
    data, folder = tmp_path / "data", tmp_path / "export"
    folder.mkdir()
    (folder / "kunden.csv").write_text("Kunde;Ort\r\nMüller GmbH;Köln\r\n", encoding="cp1252")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"name": "Kunde", "city": "Ort"}), encoding="utf-8")
    result = cli("import", str(folder), "--data-dir", str(data), "--kind", "clients", "--mapping", str(mapping))
    assert result.returncode == 0, result.stderr
    assert "Windows-1252, semicolon" in result.stdout
    assert rows(data, "SELECT name, city FROM client") == [("Müller GmbH", "Köln")]


def test_unreadable_files_are_a_user_error(tmp_path: Path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli("import", str(empty), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 1 and "empty (0 bytes)" in result.stderr
    missing = cli("import", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path / "data"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
