"""Every page and API module of the app, in the order their routes are registered (app.web.server).

A new web module is imported and listed here. At a server's start this module is imported only once the
first page has been answered (app.web.server's FIRST_PAGE_MODULES are registered before, and imported
there): importing the ~40 modules, their route handlers and the domains they alone use cost ~25 ms of
every start (issue 21, the double-click).
"""

from __future__ import annotations

from app.web.api import audit as api_audit
from app.web.api import auth as api_auth
from app.web.api import catalog as api_catalog
from app.web.api import clients as api_clients
from app.web.api import documents as api_documents
from app.web.api import expenses as api_expenses
from app.web.api import exports as api_exports
from app.web.api import fx as api_fx
from app.web.api import imports as api_imports
from app.web.api import ledger as api_ledger
from app.web.api import mail as api_mail
from app.web.api import payments as api_payments
from app.web.api import projects as api_projects
from app.web.api import receivables as api_receivables
from app.web.api import recurring as api_recurring
from app.web.api import reminders as api_reminders
from app.web.api import render as api_render
from app.web.api import reports as api_reports
from app.web.api import settings as api_settings
from app.web.api import taxes as api_taxes
from app.web.pages import audit as pages_audit
from app.web.pages import auth as pages_auth
from app.web.pages import backup as pages_backup
from app.web.pages import batch as pages_batch
from app.web.pages import catalog as pages_catalog
from app.web.pages import clients as pages_clients
from app.web.pages import dashboard as pages_dashboard
from app.web.pages import documents as pages_documents
from app.web.pages import expenses as pages_expenses
from app.web.pages import exports as pages_exports
from app.web.pages import fx as pages_fx
from app.web.pages import imports as pages_imports
from app.web.pages import ledger as pages_ledger
from app.web.pages import mail as pages_mail
from app.web.pages import payments as pages_payments
from app.web.pages import projects as pages_projects
from app.web.pages import receivables as pages_receivables
from app.web.pages import recurring as pages_recurring
from app.web.pages import reminders as pages_reminders
from app.web.pages import render as pages_render
from app.web.pages import reports as pages_reports
from app.web.pages import settings as pages_settings
from app.web.pages import taxes as pages_taxes

# One page module per domain and, where the domain has a JSON API, one API module (app/web/pages, app/web/api).
PAGE_MODULES = [pages_auth, pages_backup, pages_batch, pages_catalog, pages_clients, pages_dashboard, pages_documents,
                pages_exports, pages_ledger, pages_mail, pages_payments, pages_receivables, pages_render,
                pages_reports, pages_settings, pages_taxes, pages_audit, pages_recurring, pages_expenses]
API_MODULES = [api_auth, api_catalog, api_clients, api_documents, api_exports, api_ledger, api_mail, api_payments,
               api_receivables, api_render, api_reports, api_settings, api_taxes, api_audit, api_recurring,
               api_expenses]
PAGE_MODULES.append(pages_projects)   # projects and time (issue 19)
API_MODULES.append(api_projects)
PAGE_MODULES.append(pages_reminders)   # reminders and dunning (issue 17)
API_MODULES.append(api_reminders)
PAGE_MODULES.append(pages_fx)   # exchange rates, base currency, bank accounts (issue 16)
API_MODULES.append(api_fx)
PAGE_MODULES.append(pages_imports)   # moving in from another program (issue 20)
API_MODULES.append(api_imports)
