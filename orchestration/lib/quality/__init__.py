"""The quality gates: what they check (rules), how GX judges it (validation), what a gate
found (outcome), and the two gates themselves (gates). Plain Python: Dagster's blocking
asset checks (orchestration/defs/quality/checks.py) run them."""
