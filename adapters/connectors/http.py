"""What the HTTP connectors share: retrying only what surely never reached the provider, reading JSON
answers with exact decimals, and telling a refusal for good from a status that leaves the payment in doubt."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

# A connection refused or not made in time never reached the provider: asking again is safe. A read
# timeout or a dropped answer may have paid; those are answered in doubt and settled by a status query.
not_sent = retry(
    retry=retry_if_exception_type((httpx.ConnectError, httpx.ConnectTimeout)),
    stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.1, max=1), reraise=True)

# 4xx statuses that do not refuse the payment: the provider did not look at it (yet).
NOT_A_REFUSAL = frozenset({408, 425, 429})


def is_refusal(status: int) -> bool:
    """Whether an HTTP status refuses the request for good (a 4xx that is not about timing or load)."""
    return 400 <= status < 500 and status not in NOT_A_REFUSAL


def json_body(response: httpx.Response) -> dict[str, Any] | None:
    """The answer's JSON object, numbers read as exact decimals; None when there is none."""
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def text_of(value: Any) -> str:
    """A JSON value as text ('' for nothing)."""
    return "" if value is None else str(value)


class ProviderClient:
    """One provider's base URL over one HTTP client with a timeout; every attempt first takes the rate limit."""

    def __init__(self, base_url: str, timeout_seconds: float, acquire: Callable[[], None]):
        self._base = base_url.rstrip("/")
        self._acquire = acquire
        # loading the CA bundle is slow, and a plain http:// provider (the sandbox) never needs it
        self._http = httpx.Client(timeout=timeout_seconds, verify=self._base.startswith("https://"))

    @not_sent
    def call(self, method: str, path: str, *, body: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """One request to ``base + path``; raises ``httpx.HTTPError`` when no answer came."""
        self._acquire()
        return self._http.request(method, self._base + path, json=body, headers=headers)

    def close(self) -> None:
        """Free the connections."""
        self._http.close()
