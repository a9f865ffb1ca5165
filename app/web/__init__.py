"""Everything HTTP: the server factory, the security door, pages and the JSON API.

It calls the core's services and holds no business rule; nothing in the core imports it.
"""
