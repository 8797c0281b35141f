"""The browser's cookies: the settings session bound to one connection, and the two that tie an install to
the browser that started it (its flow secret, and the HubSpot → QuickBooks hand-off). All are `__Host-`
cookies: Secure, HttpOnly, SameSite=Lax, path /, no domain, so a sibling host cannot set or read them."""

import secrets

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from hubbooks.auth.signing import InvalidSignatureError, Signer

SESSION_COOKIE = "__Host-hb_session"
FLOW_COOKIE = "__Host-hb_flow"
INSTALL_COOKIE = "__Host-hb_install"
SESSION_SECONDS = 12 * 3600
FLOW_SECONDS = 600


def host_cookie(name: str, value: str, seconds: int) -> Cookie:
    # Lax, not Strict: these cookies must come back at the end of redirect chains that start at Intuit.
    return Cookie(
        name=name,
        value=value,
        path="/",
        secure=True,
        http_only=True,
        max_age=seconds,
        same_site=SameSite.LAX_MODE,
    )


def cleared(name: str) -> Cookie:
    return host_cookie(name, "", 0)


def cookie_values(cookies: list[str] | None, name: str) -> list[str]:
    """Every non-empty value the request's cookies give `name` (a browser may send two of one name)."""
    found = []
    for cookie in cookies or []:
        key, _, value = cookie.strip().partition("=")
        if key == name and value:
            found.append(value)
    return found


def new_flow() -> str:
    """A fresh secret for one install flow, kept only in the browser's cookie (its hash is in the state)."""
    return secrets.token_urlsafe(32)


class Sessions:
    def __init__(self, signing_key: str) -> None:
        self._signer = Signer(signing_key, "session")

    def cookie(self, connection_id: str) -> Cookie:
        return host_cookie(SESSION_COOKIE, self._signer.sign({"c": connection_id}, SESSION_SECONDS), SESSION_SECONDS)

    @staticmethod
    def clear_cookie() -> Cookie:
        return cleared(SESSION_COOKIE)

    def connection_of(self, cookies: list[str] | None) -> str | None:
        """The connection a request's cookies carry a valid session for, if any (a bad one is skipped)."""
        for value in cookie_values(cookies, SESSION_COOKIE):
            try:
                return str(self._signer.verify(value)["c"])
            except (InvalidSignatureError, KeyError):
                continue
        return None
