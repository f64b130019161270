"""The corridor twin: the event contract, the engine that drives the yards, KPIs, the generator.

Everything here is pure: no Kafka, SQL or web code (the CLI in `corridor.cli` is the one
composition root allowed to wire those in). The same engine runs a planner's replay, a CI
simulation and the live worker; only the feed differs.
"""
