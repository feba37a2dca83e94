"""What a use case tells its caller went wrong with the request (entry points map these to 4xx)."""
from domain.errors import NotFound  # a missing thing is every layer's error (repositories raise it too)

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "UseCaseError"]


class UseCaseError(Exception):
    """Base of request errors; ``title`` is short, the message says what to do."""

    title = "Bad request"


class Conflict(UseCaseError):
    title = "Conflict"


class Invalid(UseCaseError):
    title = "Invalid request"


class Forbidden(UseCaseError):
    title = "Forbidden"
