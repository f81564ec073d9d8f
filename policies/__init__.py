"""Data package: the built-in governance pack (policy files, docs, case files)."""
