"""Money and limits: each key's account and plan (`plans`), what a call costs (`prices`),
and the refusals a tier's limits give (`refusals`). The store enforces them atomically;
this package is the data and the arithmetic."""
