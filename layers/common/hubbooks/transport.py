"""One provider API call, the same way for HubSpot and QuickBooks: the bearer token (refreshed once when it is
refused), the connection's rate budget, and each status turned into the error the caller acts on."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from hubbooks.errors import AuthRejectedError, RateLimitedError, UnavailableError, ValidationFaultError
from hubbooks.ratelimit import RateBudget

TokenSource = Callable[[str | None], str]  # given the token that was refused (or None), a usable token


@dataclass(frozen=True)
class ProviderRules:
    """What differs between the providers' APIs."""

    provider: str
    fault: Callable[[requests.Response], ValidationFaultError]  # a 4xx body as the provider words it
    throttle_wait: Callable[[requests.Response], float]  # seconds a 429 asks for
    budget_kind: Callable[[str], str]  # which of the rate budget's buckets a path draws on


class Transport:
    def __init__(
        self,
        session: requests.Session,
        rules: ProviderRules,
        *,
        base: str,
        tokens: TokenSource,
        timeout: float,
        budget: RateBudget | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._session = session
        self._rules = rules
        self.base = base.rstrip("/")
        self._tokens = tokens
        self._timeout = timeout
        self.budget = budget
        self._params = params or {}
        self._headers = headers or {}

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: str | None = None,
        headers: dict[str, str] | None = None,
        missing_ok: bool = False,
        budget_taken: bool = False,
    ) -> Any:
        """One call: the JSON answer (None when empty, or for a 404 when `missing_ok`). `budget_taken`: the
        caller took this call's tokens already (a second try takes its own)."""
        provider = self._rules.provider
        token = self._tokens(None)
        for attempt in range(2):
            if self.budget is not None and not (budget_taken and attempt == 0):
                self.budget.acquire(self._rules.budget_kind(path))
            try:
                response = self._session.request(
                    method,
                    f"{self.base}{path}",
                    params={**self._params, **(params or {})},
                    json=json,
                    data=data,
                    timeout=self._timeout,
                    headers={**self._headers, **(headers or {}), "Authorization": f"Bearer {token}"},
                )
            except requests.RequestException as exc:
                raise UnavailableError(provider, f"{method} {path}: {type(exc).__name__}") from exc
            if response.status_code == 401 and attempt == 0:
                token = self._tokens(token)
                continue
            return self._answer(method, path, response, missing_ok)
        raise AuthRejectedError(provider, f"{method} {path}: the token was refused after a refresh")

    def _answer(self, method: str, path: str, response: requests.Response, missing_ok: bool) -> Any:
        status, provider = response.status_code, self._rules.provider
        if status == 429:
            wait = self._rules.throttle_wait(response)
            if self.budget is not None:
                self.budget.block(wait)
            raise RateLimitedError(provider, wait)
        if status >= 500:
            raise UnavailableError(provider, f"{method} {path}: {status}")
        if status == 404 and missing_ok:
            return None
        if status == 401:
            raise AuthRejectedError(provider, f"{method} {path}: 401")
        if status >= 400:
            raise self._rules.fault(response)
        return response.json() if response.content else None
