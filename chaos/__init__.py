"""`dispersa chaos`: see chaos/cli.py."""
