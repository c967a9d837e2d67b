"""Mutable state and time: the store interface and its implementations, and the clock.
Only handlers change the store; every timestamp and wait comes from the clock."""
