"""Benchmarks of kyoso against their floors: `python -m bench` (see README, BENCHMARKS.md).

Each figure is measured next to a floor in the same run on the same servers: the lifecycle
against a bare workflow of the same shape, the vote Update against a bare Update, the event
store against plain INSERTs and a plain cursor read.
"""
