"""Errors every layer may raise and every entry point understands."""


class DomainError(Exception):
    """A rule of the business refused something. The same input meets the same rule however often it is
    tried, so a step that raises one is never retried: it dies at once, for a person to look at."""


class NotFound(DomainError, LookupError):
    """No such thing: a merchant, store, credit, transfer or order that does not exist (or that the
    caller may not see, which it is told in the same words)."""

    title = "Not found"
