"""Writing a sync: Airbyte records -> documents -> chunks -> vectors -> staged table -> one commit -> ledger."""
