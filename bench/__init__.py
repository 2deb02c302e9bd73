"""Benchmarks: `python -m bench` (or `make bench`) prints figures, never asserts timings.

See docs/decisions/ for the figures of record and what they led to.
"""
