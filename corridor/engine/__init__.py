"""The engine: the twin that drives each yard's SimPy model in event time, the handler of each
event type, the event-time clock and the live view of a yard.
"""
