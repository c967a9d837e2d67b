"""The control and inspection API under `/_mockshot/` (`api`) and the journal as it shows
it (`journal_view`)."""
