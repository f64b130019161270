"""The operators' face of the twin: the FastAPI service, its SQL store and the dashboard.

The live worker commits the twin's outputs (KPI snapshots, yard states, reefer status, completed
visits, dead letters) to the store through the `corridor.store_contract.TwinStore` contract; the API
reads the same database, so what operators see is exactly what the worker committed. Nothing in
`corridor/` or `stations/` imports this package: the CLI wires it in.
"""
