"""HTTP sessions for the provider APIs: connection pooling, retries on connection failures, and riding out
a passing failure of a request that may be sent twice."""

import logging
import time
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from hubbooks.errors import RateLimitedError, UnavailableError

INLINE_RETRIES = 2  # passing failures one request rides out before its signal goes back to the queue
INLINE_WAIT_LIMIT = 2.0  # seconds: a longer throttle gives the signal back instead of holding the worker
_log = logging.getLogger(__name__)


def make_session(user_agent: str = "hubbooks/0.1") -> requests.Session:
    """A pooled session that retries only what cannot have reached the server (connect errors).

    Rate limits and 5xx are the callers' to handle: they know whether a write may be repeated.
    """
    # Without respect_retry_after_header=False, urllib3 would take a 429 with Retry-After as its own to
    # retry and, with status=0, raise "too many 429 error responses" instead of answering it.
    retry = Retry(
        total=3,
        connect=3,
        read=0,
        status=0,
        other=0,
        backoff_factor=0.2,
        allowed_methods=None,
        respect_retry_after_header=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=10, pool_maxsize=20)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


def ride_out[T](call: Callable[[], T], *, replay_safe: bool, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`; when it fails in a way that passes (5xx, a dropped connection, a throttle of a second or
    two) and sending it again cannot apply it twice, try again up to INLINE_RETRIES times. Each signal may
    be received only a few times before it is dead-lettered, so a worker does not give it back for a blip."""
    attempt = 0
    while True:
        try:
            return call()
        except (UnavailableError, RateLimitedError) as exc:
            throttle = exc.retry_after if isinstance(exc, RateLimitedError) else None
            if not replay_safe or attempt >= INLINE_RETRIES or (throttle or 0) > INLINE_WAIT_LIMIT:
                raise
            wait = 0.2 * 2**attempt if throttle is None else throttle
            _log.debug("call retried after a passing failure", extra={"error": str(exc), "wait_seconds": wait})
            sleep(wait)
            attempt += 1
