"""The settings session: a signed cookie bound to one connection (HttpOnly, Secure, SameSite=Lax)."""

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from hubbooks.auth.signing import InvalidSignatureError, Signer

COOKIE = "hb_session"
SESSION_SECONDS = 12 * 3600


class Sessions:
    def __init__(self, signing_key: str) -> None:
        self._signer = Signer(signing_key, "session")

    def cookie(self, connection_id: str) -> Cookie:
        # Lax, not Strict: the session is set at the end of a redirect chain that started at Intuit.
        return Cookie(
            name=COOKIE,
            value=self._signer.sign({"c": connection_id}, SESSION_SECONDS),
            path="/",
            secure=True,
            http_only=True,
            max_age=SESSION_SECONDS,
            same_site=SameSite.LAX_MODE,
        )

    @staticmethod
    def clear_cookie() -> Cookie:
        return Cookie(
            name=COOKIE,
            value="",
            path="/",
            secure=True,
            http_only=True,
            max_age=0,
            same_site=SameSite.LAX_MODE,
        )

    def connection_of(self, cookies: list[str] | None) -> str | None:
        """The connection id a request's cookies carry a valid session for, if any."""
        for cookie in cookies or []:
            name, _, value = cookie.strip().partition("=")
            if name != COOKIE or not value:
                continue
            try:
                return str(self._signer.verify(value)["c"])
            except (InvalidSignatureError, KeyError):
                return None
        return None
