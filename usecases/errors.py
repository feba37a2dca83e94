"""What a use case tells its caller went wrong with the request (entry points map these to 4xx)."""
from domain.errors import DomainError, NotFound  # a missing thing is every layer's error (repositories raise it too)

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "UseCaseError"]


class UseCaseError(DomainError):
    """Base of request errors; ``title`` is short, the message says what to do. A rule's refusal like the
    domain's: a step that meets one is not retried."""

    title = "Bad request"


class Conflict(UseCaseError):
    """The request clashes with the current state of what it touches (HTTP 409)."""

    title = "Conflict"


class Invalid(UseCaseError):
    """The request's input is not acceptable (HTTP 422)."""

    title = "Invalid request"


class Forbidden(UseCaseError):
    """The request is not allowed: the caller's role, or the state of a merchant or store, forbids it (HTTP 403)."""

    title = "Forbidden"
