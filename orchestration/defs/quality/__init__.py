"""Data-quality gates on landed dumps: GX suites and the ledger, as blocking asset checks."""
