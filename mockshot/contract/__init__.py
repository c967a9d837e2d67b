"""Contract testing of other clients: what a client exercised (coverage.py) and the page
that shows it (pages.py), from a live mock's journal or a saved one."""
