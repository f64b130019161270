"""The API's SQL store: engines, SQLModel tables, keyed upserts, archive segments, readers and
migrations. The HTTP routes read it; the live worker writes it through `sql_store.SqlStore`.
"""
