"""The store the write path writes and the read path reads: the chunk row, the LanceDB table and its
snapshots, the vector index, the DuckDB ledger, object storage, and the attachment text/status file."""
