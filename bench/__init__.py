"""`dispersa bench`: see bench/cli.py."""
