"""`make bench`: the scheduling engine and booking throughput, measured on a large clinic.

`python -m bench.run` recreates its own PostgreSQL database, seeds it, measures, prints a table
and writes bench/results.md. See bench/run.py for the order of the steps.
"""
