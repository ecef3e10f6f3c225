"""Benchmarks printing ratios measured in the same run: `python -m bench.bench_<name>` from the repository root."""
