"""Benchmarks of the Line 19 gateway against the real Asterisk sandbox (docs/benchmarks.md)."""
