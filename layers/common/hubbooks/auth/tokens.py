"""Valid access tokens for every function: cached, and refreshed under a DynamoDB lease so concurrent
Lambdas never race a provider's refresh-token rotation."""

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Logger

from hubbooks.auth.crypto import TokenCipher, TokenPair
from hubbooks.auth.grants import EXPIRY_MARGIN_SECONDS, Grant, OAuthError
from hubbooks.models.connection import Provider
from hubbooks.store.tokens import TokenRepository

logger = Logger(child=True)
LEASE_SECONDS = 60.0
WAIT_SECONDS = 15.0


class Refresher(Protocol):
    def refresh(self, refresh_token: str) -> Grant: ...


class NeedsReauthError(Exception):
    """The provider refused the stored grant: a person must connect again."""

    def __init__(self, connection_id: str, provider: Provider, reason: str) -> None:
        super().__init__(f"{provider} authorization of connection {connection_id} must be renewed: {reason}")
        self.connection_id = connection_id
        self.provider = provider
        self.reason = reason


@dataclass(frozen=True)
class _Cached:
    token: str
    expires_at: float
    version: int


_cache: dict[tuple[str, str], _Cached] = {}
_cache_lock = threading.Lock()


def _fresh(expires_at: float) -> bool:
    return expires_at - EXPIRY_MARGIN_SECONDS > time.time()


class TokenProvider:
    def __init__(
        self,
        tokens: TokenRepository,
        cipher: TokenCipher,
        refreshers: Mapping[Provider, Refresher],
        on_revoked: Callable[[str, Provider, str], None],
    ) -> None:
        self._tokens = tokens
        self._cipher = cipher
        self._refreshers = refreshers
        self._on_revoked = on_revoked
        self._owner = uuid.uuid4().hex

    def store_grant(self, connection_id: str, provider: Provider, grant: Grant) -> None:
        """Keep tokens from a new consent (install or reconnect)."""
        ciphertext = self._cipher.encrypt(
            connection_id,
            provider,
            TokenPair(access_token=grant.access_token, refresh_token=grant.refresh_token),
        )
        self._tokens.put(connection_id, provider, ciphertext, grant.expires_at)
        with _cache_lock:
            _cache.pop((connection_id, provider), None)

    def seal(self, connection_id: str, provider: Provider, grant: Grant) -> str:
        """A grant encrypted for this connection, to be kept apart until a person confirms it."""
        pair = TokenPair(access_token=grant.access_token, refresh_token=grant.refresh_token)
        return self._cipher.encrypt(connection_id, f"{provider}-pending", pair)

    def unseal(self, connection_id: str, provider: Provider, sealed: str, expires_at: float) -> Grant:
        pair = self._cipher.decrypt(connection_id, f"{provider}-pending", sealed)
        return Grant(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_at=expires_at)

    def discard(self, connection_id: str, provider: Provider) -> None:
        """Drop tokens a failed install stored."""
        self._tokens.delete(connection_id, provider)
        with _cache_lock:
            _cache.pop((connection_id, provider), None)

    def refresh_token(self, connection_id: str, provider: Provider) -> str | None:
        stored = self._tokens.get(connection_id, provider)
        if stored is None:
            return None
        return self._cipher.decrypt(connection_id, provider, stored.ciphertext).refresh_token.get_secret_value()

    def access_token(self, connection_id: str, provider: Provider, refused: str | None = None) -> str:
        """A token the provider should accept; `refused` is one it just answered 401 to."""
        key = (connection_id, provider)
        with _cache_lock:
            cached = _cache.get(key)
        if cached and cached.token != refused and _fresh(cached.expires_at):
            return cached.token
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            stored = self._tokens.get(connection_id, provider)
            if stored is None:
                raise NeedsReauthError(connection_id, provider, "no tokens are stored")
            pair = self._cipher.decrypt(connection_id, provider, stored.ciphertext)
            token = pair.access_token.get_secret_value()
            if token != refused and _fresh(stored.expires_at):
                return self._remember(key, token, stored.expires_at, stored.version)
            if self._tokens.acquire_lease(connection_id, provider, self._owner, LEASE_SECONDS):
                return self._refresh_under_lease(connection_id, provider, refused)
            time.sleep(0.05)  # another function is refreshing: wait for its tokens
        raise TimeoutError(f"no usable {provider} token for {connection_id} within {WAIT_SECONDS:g} s")

    def _refresh_under_lease(self, connection_id: str, provider: Provider, refused: str | None) -> str:
        try:
            stored = self._tokens.get(connection_id, provider)
            if stored is None:
                raise NeedsReauthError(connection_id, provider, "no tokens are stored")
            pair = self._cipher.decrypt(connection_id, provider, stored.ciphertext)
            token = pair.access_token.get_secret_value()
            if token != refused and _fresh(stored.expires_at):  # refreshed while we waited for the lease
                return self._remember((connection_id, provider), token, stored.expires_at, stored.version)
            try:
                grant = self._refreshers[provider].refresh(pair.refresh_token.get_secret_value())
            except OAuthError as exc:
                if exc.revoked:
                    reason = f"{provider} answered {exc.error} to the stored refresh token"
                    self._on_revoked(connection_id, provider, reason)
                    raise NeedsReauthError(connection_id, provider, reason) from exc
                raise
            ciphertext = self._cipher.encrypt(
                connection_id,
                provider,
                TokenPair(access_token=grant.access_token, refresh_token=grant.refresh_token),
            )
            if not self._tokens.replace_under_lease(connection_id, provider, self._owner, ciphertext, grant.expires_at):
                # The lease ran out during the call; these are still the newest tokens the provider issued.
                logger.warning("token lease expired during a refresh", extra={"provider": provider})
                self._tokens.put(connection_id, provider, ciphertext, grant.expires_at)
            logger.info("refreshed access token", extra={"provider": provider, "connection_id": connection_id})
            return self._remember(
                (connection_id, provider),
                grant.access_token.get_secret_value(),
                grant.expires_at,
                stored.version + 1,
            )
        finally:
            self._tokens.release(connection_id, provider, self._owner)

    @staticmethod
    def _remember(key: tuple[str, str], token: str, expires_at: float, version: int) -> str:
        with _cache_lock:
            _cache[key] = _Cached(token, expires_at, version)
        return token


def forget_cached(connection_id: str) -> None:
    with _cache_lock:
        for key in [k for k in _cache if k[0] == connection_id]:
            del _cache[key]
