"""Process bootstrap: the composition root, the worker module, the relay and the CLI."""
