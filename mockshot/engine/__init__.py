"""The surface-neutral chat engine: a parsed `ChatCall` in, a seeded `Completion` out.

Generation (`completion`, `textgen`, `tool_calls`, `schema_values`), token counting
(`tokens`), the model catalog (`catalog`), the rules a schema cannot say (`chat_rules`,
`media`), stream plans and pacing (`streaming`) and per-call generators (`seeding`).
Pure functions of (call, rng, clock values): nothing here imports HTTP, the store, a wire
format or the scenario engine.
"""
