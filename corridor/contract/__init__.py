"""The event contract: v1 events, container ids, event logs (JSON Lines, Parquet) and the DCSA
import. Everything that enters the twin is decoded here first.
"""
