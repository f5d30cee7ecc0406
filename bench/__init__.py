"""Benchmarks: `python -m bench` runs them all and prints one line per goal (see run_all)."""
