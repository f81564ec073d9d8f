"""Benchmarks, the synthetic plan generator and the hand-written reference rules."""
