"""Use cases: one transaction each; load, ask the domain, write, record what comes next in the outbox."""
