from piccolo.columns import Boolean, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from app.audit.tables import audited
from app.db.engine import DB


class BusinessSettings(Table, db=DB, tablename="business_settings"):
    """One row (id 1): who the business is and how documents default."""

    id: Serial  # the primary key Piccolo adds; declared for the type checker

    name = Varchar(length=200, default="")
    tagline = Varchar(length=200, default="")
    address_line1 = Varchar(length=200, default="")
    address_line2 = Varchar(length=200, default="")
    postal_code = Varchar(length=40, default="")
    city = Varchar(length=120, default="")
    region = Varchar(length=120, default="")
    country = Varchar(length=2, default="")
    email = Varchar(length=254, default="")
    phone = Varchar(length=60, default="")
    website = Varchar(length=200, default="")
    registration_number = Varchar(length=80, default="")
    tax_number = Varchar(length=80, default="")
    logo_filename = Varchar(length=200, default="")
    bank_account_holder = Varchar(length=200, default="")
    bank_name = Varchar(length=200, default="")
    bank_iban = Varchar(length=42, default="")
    bank_bic = Varchar(length=11, default="")
    # EN 16931 BT-34: where buyers' e-invoice systems reach the business (a Peppol participant id) and its
    # EAS scheme code; the Peppol BIS export needs it.
    electronic_address = Varchar(length=100, default="")
    electronic_address_scheme = Varchar(length=4, default="")
    # The seller's contact point in e-invoices (EN 16931 BT-41, BT-42, BT-43): XRechnung requires all
    # three (BR-DE-5/6/7). A person or a department ("Accounts receivable").
    seller_contact_name = Varchar(length=200, default="")
    seller_contact_phone = Varchar(length=60, default="")
    seller_contact_email = Varchar(length=254, default="")
    # How the buyer pays when there is no IBAN (EN 16931 BG-16; an IBAN always means SEPA transfer, 58):
    # a UNTDID 4461 code ("" = none chosen), the account for a non-IBAN transfer (BT-84) and a text (BT-82).
    payment_means_code = Varchar(length=3, default="")
    payment_account_id = Varchar(length=200, default="")
    payment_means_text = Varchar(length=500, default="")
    default_currency = Varchar(length=3, default="EUR")
    default_locale = Varchar(length=20, default="en")
    time_zone = Varchar(length=64, default="UTC")
    payment_terms_days = Integer(default=30)
    invoice_footer = Text(default="")
    invoice_number_pattern = Varchar(length=40, default="INV-{year}-{seq:04}")
    quote_number_pattern = Varchar(length=40, default="QUO-{year}-{seq:04}")
    credit_note_number_pattern = Varchar(length=40, default="CN-{year}-{seq:04}")
    quote_validity_days = Integer(default=30)
    default_terms = Text(default="")
    # Embed the Factur-X / ZUGFeRD XML in issued invoices and credit notes (EU e-invoices); off outside the EU.
    facturx_enabled = Boolean(default=True)
    # Render PDFs from the user's templates in the data folder's templates/ (per file, bundled when absent).
    use_custom_templates = Boolean(default=False)
    # The provinces whose sales tax the business is registered to collect (space-separated: "BC MB"); the
    # rules by place of supply add that PST only there (app.taxes.logic).
    pst_registrations = Varchar(length=20, default="")
    # The PDFs' paper: "" follows the business's country (Letter in Canada and the US, A4 elsewhere).
    paper_size = Varchar(length=10, default="")
    updated_at = Timestamptz()
    updated_by = Integer(null=True, default=None)


# Every change is recorded in the audit trail, in the writing transaction (app.audit; a hand-written
# migration creates the triggers; tests/unit/test_migrations.py holds the two in step).
EXTRA_SQL = audited(BusinessSettings)
