from piccolo.columns import BigInt, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.db.engine import DB


class ImportJob(Table, db=DB, tablename="import_job"):
    """One upload: its preview (formats, mapping, first rows, every problem) until it is applied or
    discarded. The uploaded bytes wait in the data folder's imports/<folder>/ and are removed once the
    job is applied, discarded or refused."""
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    folder = Varchar(length=40, unique=True)
    filename = Varchar(length=255, default="")
    size = BigInt(default=0)
    source = Varchar(length=20, default="auto")
    kind = Varchar(length=20, default="auto")
    status = Varchar(length=20, default="preview", index=True)  # preview | applied | discarded
    options_json = Text(default="{}")   # what the user chose: dialect overrides, mappings, accepted totals
    preview_json = Text(default="{}")   # what the preview showed
    summary_json = Text(default="{}")   # what applying wrote
    created_at = Timestamptz()
    applied_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)


class ImportMapping(Table, db=DB, tablename="import_mapping"):
    """The column mapping the user last confirmed for a source and kind of file, offered next time."""
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    key = Varchar(length=60, unique=True)   # "<source>:<kind>"
    mapping_json = Text(default="{}")
    updated_at = Timestamptz()


class ImportKey(Table, db=DB, tablename="import_key"):
    """What each imported row became: the same row imported again is matched here and changes nothing."""
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    key = Varchar(length=300, unique=True)   # "<entity>:<source>:<id in the source>"
    target_id = Integer()
    job = Integer(null=True, default=None)
