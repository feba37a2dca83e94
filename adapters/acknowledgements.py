"""Posting an acknowledgement to a tenant's X-CallbackURL, with retries (tenacity) on transport faults
and 5xx answers; a 4xx is the tenant's refusal and is not retried."""
from __future__ import annotations

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential


class CallbackFailed(Exception):
    """The tenant's endpoint did not take the acknowledgement; the step is retried, then dead-lettered."""


class CallbackRefused(Exception):
    """The tenant's endpoint answered 4xx: retrying will not help."""


class AcknowledgementSender:
    """POSTs signed JSON bodies."""

    def __init__(self, timeout_seconds: float = 5.0, attempts: int = 3):
        self._timeout, self._attempts = timeout_seconds, attempts

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST the body; returns the status. Raises CallbackFailed after the retries, CallbackRefused on 4xx."""
        @retry(retry=retry_if_exception_type(CallbackFailed), stop=stop_after_attempt(self._attempts),
               wait=wait_exponential(multiplier=0.2, max=2), reraise=True)
        def once() -> int:
            try:
                answer = httpx.post(url, content=body, timeout=self._timeout,
                                    headers={"Content-Type": "application/json", **headers})
            except httpx.HTTPError as e:
                raise CallbackFailed(f"{url}: {e}") from None
            if answer.status_code >= 500:
                raise CallbackFailed(f"{url} answered {answer.status_code}")
            if answer.status_code >= 400:
                raise CallbackRefused(f"{url} answered {answer.status_code}")
            return answer.status_code
        return once()
