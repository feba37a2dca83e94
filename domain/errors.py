"""Errors every layer may raise and every entry point understands."""


class NotFound(LookupError):
    """No such thing: a merchant, store, credit, transfer or order that does not exist (or that the
    caller may not see, which it is told in the same words)."""

    title = "Not found"
