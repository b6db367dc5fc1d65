"""Support code shared by the tests and the benchmarks: the Confluence stand-in and Airbyte message builders.

Tests and `bench/` both import this package; neither imports the other.
"""
