"""Data package: the published JSON Schemas."""
