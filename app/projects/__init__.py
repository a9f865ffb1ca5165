"""Projects and time: projects with tasks and rates, a server-owned timer, time entries, time to invoice."""
