"""The yard physics: station specs, SimPy resources and processes, reefer thermal state.

A rail container yard is a small factory for moving boxes between trucks and trains. Trucks
queue at a gate, wait for a reach stacker to lift their box, and leave; boxes dwell in the
stack (a reefer on a power plug, some held for customs) until a train or a truck takes them.
This package knows nothing of Kafka, SQL or the web: it is driven by `corridor.engine.twin`.
"""
