"""Golden files written by make_golden.py (PyTorch as the oracle), replayed by tests/test_golden.py."""
