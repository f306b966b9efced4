"""The pure domain of kyoso: models, events, commands and the decider.

Nothing in this package performs I/O or imports Temporal, so the same code runs inside a
deterministic workflow, in the projection rebuild and in plain unit tests.
"""
