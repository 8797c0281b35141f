"""HTTP sessions for the provider APIs: connection pooling and retries on connection failures."""

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def make_session(user_agent: str = "hubbooks/0.1") -> requests.Session:
    """A pooled session that retries only what cannot have reached the server (connect errors).

    Rate limits and 5xx are the callers' to handle: they know whether a write may be repeated.
    """
    retry = Retry(total=3, connect=3, read=0, status=0, other=0, backoff_factor=0.2, allowed_methods=None)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=10, pool_maxsize=20)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent
    return session
