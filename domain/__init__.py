"""Pure business rules of dispersa: no I/O, no frameworks (checked by tests/unit/test_domain_purity.py)."""
