from piccolo.columns import Boolean, Date, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.db.engine import DB


class User(Table, db=DB, tablename="app_user"):
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    email = Varchar(length=254, unique=True)
    name = Varchar(length=200, default="")
    role = Varchar(length=10, default="staff")  # owner | staff
    password_hash = Text()
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)
    # The language and locale of the user's pages (`de`, `fr_CA`); None: the business locale (settings).
    language = Varchar(length=20, null=True, default=None)


class Session(Table, db=DB, tablename="app_session"):
    """Server-side browser sessions; the cookie holds a random id, we keep its sha256."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    id_hash = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, null=True)
    csrf_token = Varchar(length=64)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    expires_at = Timestamptz()
    how = Varchar(length=20, default="password")  # password | launch | setup


class ApiToken(Table, db=DB, tablename="api_token"):
    id: Serial  # the primary key Piccolo adds; declared for the type checker
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=12)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    # read | write | owner (app.auth.logic.token_refusal says what each may do)
    scope = Varchar(length=10, default="write")
    # The last day the token works, in the business's time zone; None: until revoked.
    valid_until = Date(null=True, default=None)


class LoginAttempt(Table, db=DB, tablename="login_attempt"):
    """Every login try, kept as the record the throttle reads and the owner can audit."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    email = Varchar(length=254, index=True)
    remote = Varchar(length=64, default="")
    succeeded = Boolean(default=False)
    at = Timestamptz()


class LaunchToken(Table, db=DB, tablename="launch_token"):
    """One-time sign-in for whoever started the program (written to a 0600 page)."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers). Hashes of passwords and tokens are written as "changed" only. A
# token's last use moves with every request and is not recorded; sessions are not audited at all
# (app.audit.logic.NOT_AUDITED says why).
EXTRA_SQL = {
    **audited(User),
    **audited(ApiToken, ignored={"last_used_at"}, parent=("user", "app_user")),
    **audited(LoginAttempt),
    **audited(LaunchToken),
}

# Named CHECK constraints, added by the hand-written migration (see app.db.constraints).
CHECKS = {
    "api_token": {
        "api_token_scope_known": "scope IN ('read', 'write', 'owner')",
    },
}
