from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.db.engine import DB


class BackupSettings(Table, db=DB, tablename="backup_settings"):
    """One row (id 1): where scheduled backups go, how often, and how the last one went.

    The passphrase for scheduled backups is not here: it lives in the data folder
    (`backup-passphrase`, 0600), so it never travels inside a bundle.
    """

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    folder = Varchar(length=1000, default="")
    rhythm = Varchar(length=20, default="off")        # off | on_quit | daily | weekly
    keep_last = Integer(default=10)
    last_success_at = Timestamptz(null=True, default=None)
    last_success_file = Varchar(length=1000, default="")
    last_attempt_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    updated_at = Timestamptz(null=True, default=None)


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers).
EXTRA_SQL = audited(BackupSettings)
