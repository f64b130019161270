"""The live twin's event-time parts, free of Kafka: the reorder buffer, the watermark, KPI
snapshots and an in-memory store for tests and demos.
"""
