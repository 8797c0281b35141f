"""Benchmarks of hubbooks (make bench): results in .bench/results.json and docs/benchmarks.md."""
