"""Benchmarks: not part of the test suite (timings on shared machines are noisy)."""
