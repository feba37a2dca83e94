"""End-to-end tests: the real processes on loopback."""
