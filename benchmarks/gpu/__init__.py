"""The parts of benchmarks/gpu_check.py, one module each; that script runs them."""
