"""The plan: model (pydantic entities), loader (YAML 1.2/JSON with positions), graph."""
