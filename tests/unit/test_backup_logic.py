"""Backup bundles: the header and its limits, the manifest, the schedule (pure), and the
streaming container against the test vectors and an independent reader written from
docs/backup-format.md."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import struct
import tempfile
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.backup import logic
from app.backup.bundle import BundleReader, BundleWriter, derive_master_key, header_key, header_mac, payload_key
from app.backup.logic import CHUNK_SIZE, HEADER_SIZE, TAG_SIZE, KdfParams
from app.common.logic import ValidationFailed
from tests.unit.backup_reader import ReaderError, read_bundle
from tests.vectors.backup import make_vector

VECTORS = Path(make_vector.__file__).resolve().parent
SPEC = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
BUNDLE = (VECTORS / SPEC["bundle"]).read_bytes()
PASSPHRASE = SPEC["passphrase"]
UTC = UTC


def read_all(data: bytes, passphrase: str = PASSPHRASE) -> bytes:
    reader = BundleReader(io.BytesIO(data), passphrase)
    out = bytearray()
    while piece := reader.read(10_000):
        out += piece
    return bytes(out)


def seal(plaintext: bytes, passphrase: str = PASSPHRASE, **kwargs) -> bytes:
    out = io.BytesIO()
    writer = BundleWriter(out, passphrase, **kwargs)
    writer.write(plaintext)
    writer.close()
    return out.getvalue()


def mutate(data: bytes, mutation: dict) -> bytes:
    """The mutations of vectors.json, as the document describes them."""
    out = bytearray(data)
    if "replace_with_hex" in mutation:
        return bytes.fromhex(mutation["replace_with_hex"])
    if "truncate_to" in mutation:
        return bytes(out[:mutation["truncate_to"]])
    if "truncate_by" in mutation:
        return bytes(out[:-mutation["truncate_by"]])
    if "append_hex" in mutation:
        return bytes(out) + bytes.fromhex(mutation["append_hex"])
    if "flip_bit" in mutation:
        out[mutation["flip_bit"]["offset"]] ^= 1 << mutation["flip_bit"]["bit"]
    for key, fmt in (("set_u16", ">H"), ("set_u32", ">I"), ("set_u64", ">Q")):
        if key in mutation:
            struct.pack_into(fmt, out, mutation[key]["offset"], mutation[key]["value"])
    if mutation.get("fix_checksum"):
        out[96:128] = hashlib.sha256(bytes(out[:96])).digest()
    return bytes(out)


# -- the test vector ----------------------------------------------------------------------

def test_the_vector_file_is_the_documented_one():
    assert len(BUNDLE) == SPEC["size"]
    assert hashlib.sha256(BUNDLE).hexdigest() == SPEC["sha256"]
    assert SPEC["sha256"] in (VECTORS.parents[2] / "docs" / "backup-format.md").read_text(encoding="utf-8")


def test_the_writer_reproduces_the_vector_byte_for_byte():
    built = make_vector.build()
    assert hashlib.sha256(built).hexdigest() == SPEC["sha256"]
    assert built == BUNDLE


def test_the_vector_header_is_what_the_document_says():
    header = logic.parse_header(BUNDLE[:HEADER_SIZE], len(BUNDLE))
    assert header.kdf == KdfParams(**SPEC["kdf"])
    assert header.salt.hex() == SPEC["salt_hex"] and header.payload_nonce.hex() == SPEC["payload_nonce_hex"]
    assert header.plaintext_length == SPEC["plaintext_length"] and header.chunk_count == SPEC["chunks"]


def test_the_independent_reader_opens_the_vector():
    members = read_bundle(BUNDLE, PASSPHRASE)
    assert set(members) == {"counterfoil.sqlite", "attachments/vector.txt", "manifest.json"}
    assert members["attachments/vector.txt"] == make_vector.attachment_bytes()
    assert hashlib.sha256(members["counterfoil.sqlite"]).hexdigest() == SPEC["files"]["counterfoil.sqlite"]["sha256"]
    manifest = json.loads(members["manifest.json"])
    assert manifest["business_name"] == "Test Vector Ltd" and manifest["created_at"] == "2026-01-01T00:00:00Z"


def test_the_program_reads_the_same_plaintext_as_the_independent_reader():
    plaintext = read_all(BUNDLE)
    assert len(plaintext) == SPEC["plaintext_length"]
    assert plaintext.rstrip(b"\0").endswith(b"}\n")   # the manifest, then tar's zero padding


@pytest.mark.parametrize("variant", SPEC["variants"], ids=[v["name"] for v in SPEC["variants"]])
def test_each_damaged_variant_gives_its_error_in_both_readers(variant):
    data = mutate(BUNDLE, variant["mutation"])
    passphrase = variant["mutation"].get("passphrase", PASSPHRASE)
    with pytest.raises(ReaderError) as independent:
        read_bundle(data, passphrase)
    assert independent.value.code == variant["error"]
    with pytest.raises(logic.BackupError) as ours:
        read_all(data, passphrase)
    assert ours.value.code == variant["error"], ours.value.message
    assert ours.value.message.endswith("Nothing was changed.")


def test_the_variants_cover_every_case_the_issue_names():
    codes = {v["error"] for v in SPEC["variants"]}
    assert {"empty_file", "not_a_bundle", "header_damaged", "payload_damaged", "truncated", "trailing_data",
            "wrong_passphrase", "unsafe_parameters"} <= codes


# -- the stream ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def three_chunks() -> tuple[bytes, bytes]:
    plaintext = os.urandom(2 * CHUNK_SIZE + 1234)
    return plaintext, seal(plaintext)


def test_round_trip_and_size(three_chunks):
    plaintext, data = three_chunks
    assert len(data) == HEADER_SIZE + len(plaintext) + 3 * TAG_SIZE == logic.bundle_size(len(plaintext))
    assert read_all(data) == plaintext


def test_no_plaintext_appears_in_the_file():
    marker = b"Northwind Studio, 214 Spadina Avenue " * 200
    data = seal(marker)
    assert b"Northwind" not in data and b"Spadina" not in data


def test_a_payload_of_exactly_one_chunk_has_one_full_final_chunk():
    plaintext = os.urandom(CHUNK_SIZE)
    data = seal(plaintext)
    assert len(data) == HEADER_SIZE + CHUNK_SIZE + TAG_SIZE
    assert read_all(data) == plaintext


def test_writes_of_any_size_give_the_same_bundle():
    plaintext = os.urandom(3 * CHUNK_SIZE)
    fixed = {"salt": b"s" * 16, "payload_nonce": b"n" * 16}
    one = seal(plaintext, **fixed)
    out = io.BytesIO()
    writer = BundleWriter(out, PASSPHRASE, **fixed)
    for start in range(0, len(plaintext), 7777):
        writer.write(plaintext[start:start + 7777])
    writer.close()
    assert out.getvalue() == one


def test_an_empty_payload_is_refused_by_the_writer():
    writer = BundleWriter(io.BytesIO(), PASSPHRASE)
    with pytest.raises(ValueError):
        writer.close()


def test_the_writer_never_uses_weaker_parameters():
    with pytest.raises(ValueError):
        BundleWriter(io.BytesIO(), PASSPHRASE, kdf=KdfParams(2, 64 * 1024, 4))
    with pytest.raises(ValueError):
        BundleWriter(io.BytesIO(), PASSPHRASE, kdf=KdfParams(3, 32 * 1024, 4))


def test_two_final_chunks_are_refused(three_chunks):
    """Re-seal the first chunk with the final flag, with the right key: only the flag check catches it."""
    plaintext, data = three_chunks
    header = logic.parse_header(data[:HEADER_SIZE], len(data))
    master = derive_master_key(PASSPHRASE, header.salt, header.kdf)
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    aead = ChaCha20Poly1305(payload_key(master, header.payload_nonce))
    forged = bytearray(data)
    forged[HEADER_SIZE:HEADER_SIZE + CHUNK_SIZE + TAG_SIZE] = aead.encrypt(
        logic.chunk_nonce(0, True), plaintext[:CHUNK_SIZE], None)
    with pytest.raises(logic.PayloadDamaged, match="final part"):
        read_all(bytes(forged))


def test_a_file_cut_at_a_chunk_boundary_with_a_forged_length_is_still_refused(three_chunks):
    """Even if the header's length is changed to match the cut (and re-MACed with the key), the flag catches it."""
    _plaintext, data = three_chunks
    header = logic.parse_header(data[:HEADER_SIZE], len(data))
    master = derive_master_key(PASSPHRASE, header.salt, header.kdf)
    fields = logic.pack_fields(header.kdf, 2 * CHUNK_SIZE, header.salt, header.payload_nonce)
    forged = logic.pack_header(fields, header_mac(header_key(master), fields)) + \
        data[HEADER_SIZE:HEADER_SIZE + 2 * (CHUNK_SIZE + TAG_SIZE)]
    with pytest.raises(logic.Truncated, match="before its final part"):
        read_all(forged)


def test_damage_in_a_middle_chunk_names_the_part(three_chunks):
    _, data = three_chunks
    broken = bytearray(data)
    broken[HEADER_SIZE + CHUNK_SIZE + TAG_SIZE + 5] ^= 0x40
    with pytest.raises(logic.PayloadDamaged, match="part 2 of 3"):
        read_all(bytes(broken))


def test_memory_stays_flat_while_sealing_and_opening():
    """32 MiB through the writer and the reader; Python allocations stay near one chunk (Argon2's C memory aside)."""
    block = os.urandom(1024 * 1024)
    with tempfile.TemporaryFile() as sink:
        tracemalloc.start()
        writer = BundleWriter(sink, PASSPHRASE)
        for _ in range(32):
            writer.write(block)
        writer.close()
        _, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        sink.seek(0)
        reader = BundleReader(sink, PASSPHRASE)
        total = 0
        while piece := reader.read(1024 * 1024):
            total += len(piece)
        _, peak_read = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert total == 32 * 1024 * 1024
    assert peak_write < 4 * 1024 * 1024, peak_write
    assert peak_read < 4 * 1024 * 1024, peak_read


# -- the header, pure -----------------------------------------------------------------------

def header_bytes(kdf: KdfParams = logic.DEFAULT_KDF, length: int = 100) -> bytes:
    fields = logic.pack_fields(kdf, length, b"\x01" * 16, b"\x02" * 16)
    return logic.pack_header(fields, b"\x03" * 32)


def test_header_layout():
    head = header_bytes(length=100)
    assert len(head) == 128 and head[:8] == b"CFBACKUP"
    assert struct.unpack(">HBBIIIQ", head[8:32]) == (1, 1, 1, 3, 65536, 4, 100)
    assert head[96:] == hashlib.sha256(head[:96]).digest()
    header = logic.parse_header(head, logic.bundle_size(100))
    assert header.chunk_count == 1 and header.bundle_size == 128 + 100 + 16


@pytest.mark.parametrize(("kdf", "fragment"), [
    (KdfParams(3, 100 * 1024 * 1024, 4), "100 GiB"),
    (KdfParams(3, 1024 * 1024 + 1, 4), "limit"),
    (KdfParams(11, 65536, 4), "passes"),
    (KdfParams(3, 65536, 64), "lanes"),
    (KdfParams(1, 65536, 4), "weaker"),
    (KdfParams(3, 1024, 4), "weaker"),
])
def test_hostile_parameters_are_refused_before_any_allocation(kdf, fragment):
    head = header_bytes(kdf)
    with pytest.raises(logic.UnsafeParameters, match=fragment):
        logic.parse_header(head, logic.bundle_size(100))
    with pytest.raises(logic.UnsafeParameters):   # and the key derivation refuses them by itself too
        derive_master_key(PASSPHRASE, b"\0" * 16, kdf)


def test_the_memory_limit_itself_is_accepted():
    logic.check_kdf(KdfParams(10, logic.MAX_MEMORY_KIB, 16))


@pytest.mark.parametrize(("size_delta", "error"), [(-1, logic.Truncated), (1, logic.TrailingData)])
def test_the_file_size_must_match_the_header(size_delta, error):
    with pytest.raises(error):
        logic.parse_header(header_bytes(length=100), logic.bundle_size(100) + size_delta)


def test_short_files():
    with pytest.raises(logic.EmptyFile):
        logic.parse_header(b"", 0)
    with pytest.raises(logic.Truncated):
        logic.parse_header(b"CFBACKUP\x00\x01", 10)
    with pytest.raises(logic.NotABundle):
        logic.parse_header(b"hello", 5)
    with pytest.raises(logic.NotABundle):
        logic.parse_header(b"x" * 128, 5000)


def test_chunk_nonces():
    assert logic.chunk_nonce(0, False) == bytes(12)
    assert logic.chunk_nonce(1, True) == bytes(10) + b"\x01\x01"
    assert logic.chunk_nonce(256, False) == bytes(9) + b"\x01\x00\x00"
    with pytest.raises(ValueError):
        logic.chunk_nonce(-1, False)


@pytest.mark.parametrize(("length", "chunks", "last"), [(1, 1, 1), (65536, 1, 65536), (65537, 2, 1),
                                                         (2 * 65536, 2, 65536)])
def test_chunk_arithmetic(length, chunks, last):
    assert logic.chunk_count(length) == chunks
    assert logic.chunk_plaintext_size(length, chunks - 1) == last
    assert logic.bundle_size(length) == 128 + length + 16 * chunks


# -- members and the manifest ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["counterfoil.sqlite", "manifest.json", "attachments/logo.png",
                                  "attachments/receipts/2026/r1.pdf", "attachments/Zoë.png"])
def test_good_member_names(name):
    assert logic.check_member_name(name) == name


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "attachments/../x", "attachments/./x",
                                  "attachments//x", "attachments/", "attachments/x/", "other.txt",
                                  "attachments\\x", "attachments/a\x00b", "counterfoil.sqlite-wal",
                                  "attachments/" + "a" * 2000])
def test_bad_member_names(name):
    with pytest.raises(logic.ContentInvalid):
        logic.check_member_name(name)


def digest(name: str, content: bytes) -> logic.MemberDigest:
    return logic.MemberDigest(name, len(content), hashlib.sha256(content).hexdigest())


def good_manifest() -> tuple[dict, dict]:
    files = [digest("counterfoil.sqlite", b"db"), digest("attachments/logo.png", b"png")]
    manifest = logic.build_manifest(app_version="1.0", created_at=datetime(2026, 5, 1, 12, tzinfo=UTC),
                                    business_name="Maple", migrations={"b": ["2", "1"], "a": ["3"]},
                                    row_counts={"client": 3}, files=files)
    return json.loads(json.dumps(manifest)), {f.path: f for f in files}


def test_manifest_round_trip():
    manifest, seen = good_manifest()
    assert manifest["created_at"] == "2026-05-01T12:00:00Z"
    assert manifest["schema_version"] == "3" and manifest["migrations"] == {"a": ["3"], "b": ["1", "2"]}
    assert logic.check_manifest(manifest, seen) is manifest


@pytest.mark.parametrize("breakage", ["missing_file", "extra_file", "wrong_hash", "wrong_size", "no_database",
                                      "not_ours", "bad_counts", "duplicate", "bad_path"])
def test_manifest_mismatches_are_refused(breakage):
    manifest, seen = good_manifest()
    if breakage == "missing_file":
        del seen["attachments/logo.png"]
    elif breakage == "extra_file":
        seen["attachments/new.png"] = digest("attachments/new.png", b"x")
    elif breakage == "wrong_hash":
        seen["attachments/logo.png"] = logic.MemberDigest("attachments/logo.png", 3, "0" * 64)
    elif breakage == "wrong_size":
        manifest["files"][1]["size"] = 4
    elif breakage == "no_database":
        manifest["files"] = manifest["files"][1:]
        del seen["counterfoil.sqlite"]
    elif breakage == "not_ours":
        manifest["format"] = "something-else"
    elif breakage == "bad_counts":
        manifest["row_counts"]["client"] = -1
    elif breakage == "duplicate":
        manifest["files"].append(dict(manifest["files"][1]))
    elif breakage == "bad_path":
        manifest["files"][1]["path"] = "../../x"
    with pytest.raises(logic.ContentInvalid):
        logic.check_manifest(manifest, seen)


@pytest.mark.parametrize(("declared", "words"), [
    ({"counterfoil.sqlite": 2}, "'attachments/logo.png' is listed but absent"),
    ({"counterfoil.sqlite": 2, "attachments/logo.png": 3, "attachments/x": 1}, "'attachments/x' is present but not"),
    ({"counterfoil.sqlite": 2, "attachments/logo.png": 10 ** 12}, "declares 1000000000000 bytes, the manifest lists 3"),
])
def test_declared_sizes_must_be_the_manifests(declared, words):
    manifest, _ = good_manifest()
    with pytest.raises(logic.ContentInvalid, match=re.escape(words)):
        logic.check_declared_sizes(manifest, declared)


def test_declared_sizes_add_up_to_what_will_be_written():
    manifest, _ = good_manifest()
    assert logic.check_declared_sizes(manifest, {"counterfoil.sqlite": 2, "attachments/logo.png": 3}) == 5
    manifest["files"][1]["size"] = -3
    with pytest.raises(logic.ContentInvalid, match="malformed"):
        logic.check_declared_sizes(manifest, {"counterfoil.sqlite": 2, "attachments/logo.png": -3})


def test_a_backups_sending_settings_are_described():
    found = logic.BundleSettings(smtp_host="smtp.example.net", smtp_port=465, smtp_username="me",
                                 from_email="me@example.net", accountant_email="acc@example.net",
                                 accountant_schedule="monthly", accountant_day=5, queued_messages=7,
                                 queued_recipients=tuple(f"r{i}@example.net" for i in range(7)),
                                 backup_rhythm="weekly", backup_folder="/media/stick", custom_templates_on=True,
                                 template_files=1, users=2, owners=1, active_tokens=3, sessions=4)
    lines = dict(logic.describe_bundle_settings(found))
    assert lines["Mail server (SMTP)"] == "smtp.example.net:465 as me, from me@example.net"
    assert lines["Accountant's package by email"] == "monthly on day 5, to acc@example.net"
    assert lines["Outbox"] == ("7 messages waiting to be sent, to r0@example.net, r1@example.net, r2@example.net, "
                               "r3@example.net, r4@example.net and 2 more")
    assert lines["Scheduled backups"] == "weekly, to /media/stick"
    assert lines["Custom document templates"] == "on (1 file)"
    assert lines["User accounts"] == "2 (1 owner)" and lines["API tokens"] == "3 active"
    assert lines["Browser sessions"] == "4"
    quiet = dict(logic.describe_bundle_settings(logic.BundleSettings()))
    assert quiet["Mail server (SMTP)"] == "none" and quiet["Accountant's package by email"] == "off"
    assert quiet["Outbox"] == "none" and quiet["Scheduled backups"] == "off"


def test_schema_comparison():
    known = {"clients": ["1", "2"], "backup": ["1"]}
    same = logic.compare_schema({"clients": ["1", "2"], "backup": ["1"]}, known)
    assert not same.newer and not same.needs_migration
    older = logic.compare_schema({"clients": ["1"]}, known)
    assert older.needs_migration and not older.newer and older.missing_there == {"clients": ["2"], "backup": ["1"]}
    newer = logic.compare_schema({"clients": ["1", "2", "3"], "backup": ["1"]}, known)
    assert newer.newer and newer.missing_here == {"clients": ["3"]}
    assert "version 9.9" in logic.newer_schema("9.9").message


def test_summary_counts_are_in_words():
    assert logic.summary_counts({"client": 30, "document": 5, "migration": 12}) == [
        ("clients", 30), ("quotes, invoices and credit notes", 5)]


# -- passphrases ------------------------------------------------------------------------------

@pytest.mark.parametrize(("passphrase", "ok"), [("short", False), ("aaaaaaaaaaaaaaaa", False), ("abababababab", False),
                                                ("correct horse battery staple", True), ("Tr0ub4dor&3xyz", True)])
def test_passphrase_rules(passphrase, ok):
    assert (logic.passphrase_problem(passphrase) is None) == ok


def test_passphrase_strength_grows_with_length():
    assert logic.passphrase_strength("abcdefghij") == "weak"
    assert logic.passphrase_strength("correct horse battery staple") == "strong"
    assert logic.passphrase_bits("aaaa") < logic.passphrase_bits("abcd")


def test_a_new_passphrase_is_typed_twice():
    assert logic.clean_new_passphrase({"passphrase": "correct horse battery", "passphrase_repeat":
                                       "correct horse battery"}) == "correct horse battery"
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_new_passphrase({"passphrase": "correct horse battery", "passphrase_repeat": "correct horse"})
    assert "passphrase_repeat" in failed.value.by_field()
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_new_passphrase({"passphrase": "short", "passphrase_repeat": "short"})
    assert "too short" in failed.value.by_field()["passphrase"]
    assert logic.clean_new_passphrase({}, required=False) is None


def test_passphrases_are_normalised():
    composed, decomposed = "Zo\u00eb passphrase", "Zoe\u0308 passphrase"
    assert logic.normalise_passphrase(composed) == logic.normalise_passphrase(decomposed)


# -- the schedule -----------------------------------------------------------------------------

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("rhythm", "last_success", "last_attempt", "due"), [
    ("off", None, None, False),
    ("on_quit", None, None, False),
    ("daily", None, None, True),
    ("daily", NOW - timedelta(hours=23), NOW - timedelta(hours=23), False),
    ("daily", NOW - timedelta(hours=25), NOW - timedelta(hours=25), True),
    ("weekly", NOW - timedelta(days=6), NOW - timedelta(days=6), False),
    ("weekly", NOW - timedelta(days=8), NOW - timedelta(days=8), True),
    ("daily", NOW - timedelta(days=2), NOW - timedelta(minutes=20), False),   # failed 20 min ago: wait
    ("daily", NOW - timedelta(days=2), NOW - timedelta(hours=2), True),       # failed 2 h ago: retry
    ("daily", None, NOW - timedelta(minutes=5), False),
])
def test_when_a_scheduled_backup_is_due(rhythm, last_success, last_attempt, due):
    assert logic.is_due(rhythm, last_success, last_attempt, NOW) is due


def test_backup_health():
    ok = logic.backup_health("daily", NOW - timedelta(hours=3), NOW - timedelta(hours=3), "", NOW)
    assert ok.level == "ok" and "2026-06-10" in ok.message
    stale = logic.backup_health("daily", NOW - timedelta(days=3), NOW - timedelta(days=3), "", NOW)
    assert stale.level == "warning" and "3 days old" in stale.message
    failed = logic.backup_health("weekly", NOW - timedelta(days=1), NOW, "The backup folder is not available.", NOW)
    assert failed.level == "error" and "not available" in failed.message
    assert logic.backup_health("daily", None, None, "", NOW).level == "warning"
    assert logic.backup_health("off", None, None, "", NOW).level == "off"


def test_backup_health_reads_in_the_business_time_zone_and_the_readers_language():
    from zoneinfo import ZoneInfo

    from app.common.i18n import translations_for, using

    at = NOW.replace(hour=14, minute=0) - timedelta(days=3)
    toronto = logic.backup_health("daily", at, at, "", NOW, zone=ZoneInfo("America/Toronto"))
    assert f"({at:%Y-%m-%d} 10:00)" in toronto.message, "14:00 UTC is 10:00 in Toronto in June (EDT)"
    with using(translations_for("de")):
        german = logic.backup_health("daily", at, at, "", NOW)
    assert "2 Tage alt" in german.message and "täglich" in german.message


def test_pruning_keeps_the_newest_and_touches_nothing_else():
    names = ["counterfoil-20260101-010000.counterfoil", "counterfoil-20260103-010000.counterfoil",
             "counterfoil-20260102-010000.counterfoil", "counterfoil-20260103-010000-1.counterfoil",
             "my-own-copy.counterfoil", "notes.txt", "counterfoil-20260101-010000.counterfoil.part"]
    assert logic.files_to_prune(names, 2) == ["counterfoil-20260101-010000.counterfoil",
                                              "counterfoil-20260102-010000.counterfoil"]
    assert logic.files_to_prune(names, 10) == []
    assert logic.files_to_prune(names, 0) == logic.files_to_prune(names, 1)   # never prune the only one


def test_scheduled_names_do_not_collide():
    moment = datetime(2026, 6, 10, 12, 0, 5)
    first = logic.scheduled_filename(moment)
    assert first == "counterfoil-20260610-120005.counterfoil"
    assert logic.scheduled_filename(moment, [first]) == "counterfoil-20260610-120005-1.counterfoil"
    assert logic.SCHEDULED_NAME_RE.match(logic.scheduled_filename(moment, [first]))


def test_export_filename():
    assert logic.export_filename("Lumière Boréale Inc.", datetime(2026, 6, 10, 9, 5)) == \
        "counterfoil-lumiere-boreale-inc-20260610-0905.counterfoil"
    assert logic.export_filename("", datetime(2026, 6, 10, 9, 5)) == "counterfoil-20260610-0905.counterfoil"


def test_schedule_form():
    values, passphrase = logic.clean_schedule({"folder": "/media/usb/backups", "rhythm": "daily", "keep_last": "5",
                                               "passphrase": "correct horse battery",
                                               "passphrase_repeat": "correct horse battery"},
                                              data_dir="/home/u/.local/share/Counterfoil", has_passphrase=False)
    assert values == {"folder": "/media/usb/backups", "rhythm": "daily", "keep_last": 5}
    assert passphrase == "correct horse battery"
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_schedule({"folder": "relative/path", "rhythm": "weekly", "keep_last": "0"},
                             data_dir="/data", has_passphrase=False)
    errors = failed.value.by_field()
    assert {"folder", "keep_last", "passphrase"} <= set(errors)
    with pytest.raises(ValidationFailed) as failed:
        logic.clean_schedule({"folder": "/data/sub", "rhythm": "daily"}, data_dir="/data", has_passphrase=True)
    assert "outside the data folder" in failed.value.by_field()["folder"]
    values, passphrase = logic.clean_schedule({"folder": "", "rhythm": "off"}, data_dir="/data", has_passphrase=False)
    assert values["rhythm"] == "off" and passphrase is None
