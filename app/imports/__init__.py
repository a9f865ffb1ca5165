"""Moving in: clients, items, invoices and payments from another billing program (app.imports)."""
