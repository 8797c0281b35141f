"""Failures talking to HubSpot or QuickBooks, sorted by what the caller should do about them."""


class ProviderError(Exception):
    """Base of every provider failure."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message


def loggable(exc: BaseException) -> str:
    """What a log line may say of a failure: its kind and code, never a provider's words, which can quote
    QuickBooks data (names, emails, amounts)."""
    if isinstance(exc, ValidationFaultError):
        return f"{type(exc).__name__}: {exc.provider} {exc.status} {exc.code}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"  # our own messages: methods, paths, ids and statuses


class RateLimitedError(ProviderError):
    """429: wait `retry_after` seconds; never a failure of the record. `budget`: no provider answered 429, the
    connection's own rate budget has no token for that long (a known wait, not a throttle to back off from)."""

    def __init__(self, provider: str, retry_after: float, *, budget: bool = False) -> None:
        super().__init__(provider, f"rate limited, retry after {retry_after:g} s")
        self.retry_after = retry_after
        self.budget = budget


class UnavailableError(ProviderError):
    """5xx, timeouts, dropped connections: retry later; the request may or may not have been applied."""


class AuthRejectedError(ProviderError):
    """The provider refused our token even after a refresh."""


class ValidationFaultError(ProviderError):
    """The provider refused the request's content: a sync error for a person to fix, never retried as is."""

    def __init__(
        self, provider: str, status: int, code: str, message: str, *, detail: str = "", element: str = ""
    ) -> None:
        super().__init__(provider, f"{code} {message}: {detail}".strip())
        self.status = status
        self.code = code
        self.fault_message = message
        self.detail = detail
        self.element = element

    @property
    def gone(self) -> bool:
        """QuickBooks' Object Not Found (610): the record was deleted or merged away since it was named."""
        return self.provider == "quickbooks" and self.code == "610"
