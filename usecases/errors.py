"""What a use case tells its caller went wrong with the request (entry points map these to 4xx)."""


class UseCaseError(Exception):
    """Base of request errors; ``title`` is short, the message says what to do."""

    title = "Bad request"


class NotFound(UseCaseError):
    title = "Not found"


class Conflict(UseCaseError):
    title = "Conflict"


class Invalid(UseCaseError):
    title = "Invalid request"


class Forbidden(UseCaseError):
    title = "Forbidden"
