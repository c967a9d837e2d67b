"""The platform's resources beyond chat: account-level endpoints (`account`: models,
balance, token estimation), `files` and `batches`."""
