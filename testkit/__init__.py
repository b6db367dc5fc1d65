"""Support code shared by the tests and the benchmarks: the Confluence stand-in, Airbyte records/messages/catalogs,
indexes built in-process, the PyAirbyte venv. The session fixtures in the top-level conftest.py are built from it.

Tests and `bench/` both import this package; neither imports the other.
"""
