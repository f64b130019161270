"""The Kafka edge: moving v1 events between the yards' topics, the twin, and its outputs.

The yard systems publish dispatch, reefer and train events to Kafka, keyed by yard; the worker
(`streams.worker`) consumes them, keeps the twin in event time (`streams.live.twin`), writes
its outputs and offsets atomically through a `corridor.store_contract.TwinStore`, and sends what it
cannot apply to a dead-letter topic. Everything Kafka-specific stays in this package; the core
(`corridor`, `stations`) never sees a librdkafka detail.
"""
