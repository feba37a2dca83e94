"""Domain unit tests: pure, no services."""
