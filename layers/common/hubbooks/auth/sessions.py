"""The browser's cookies: the settings session bound to one connection, and the two that tie an install to
the browser that started it (its flow secret, and the HubSpot → QuickBooks hand-off). All are `__Host-`
cookies: Secure, HttpOnly, SameSite=Lax, path /, no domain, so a sibling host cannot set or read them."""

import secrets
import time
from dataclasses import dataclass

from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from hubbooks.auth.signing import InvalidSignatureError, Signer
from hubbooks.store.keys import SESSIONS, connection_pk, session_sk
from hubbooks.store.table import Table

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


@dataclass(frozen=True)
class Session:
    connection_id: str
    session_id: str


class Sessions:
    """Signed cookies backed by an item per live session, so a session can be ended before it expires."""

    def __init__(self, signing_key: str, table: Table) -> None:
        self._signer = Signer(signing_key, "session")
        self._table = table

    def cookie(self, connection_id: str) -> Cookie:
        """A new session for the connection."""
        session_id = secrets.token_urlsafe(18)
        self._table.resource.put_item(
            Item={
                "PK": connection_pk(connection_id),
                "SK": session_sk(session_id),
                "ttl": int(time.time()) + SESSION_SECONDS,
            }
        )
        value = self._signer.sign({"c": connection_id, "s": session_id}, SESSION_SECONDS)
        return host_cookie(SESSION_COOKIE, value, SESSION_SECONDS)

    @staticmethod
    def clear_cookie() -> Cookie:
        return cleared(SESSION_COOKIE)

    def session_of(self, cookies: list[str] | None) -> Session | None:
        """The live session a request's cookies carry, if any (a bad or ended one is skipped)."""
        for value in cookie_values(cookies, SESSION_COOKIE):
            try:
                payload = self._signer.verify(value)
                session = Session(str(payload["c"]), str(payload["s"]))
            except (InvalidSignatureError, KeyError):
                continue
            key = {"PK": connection_pk(session.connection_id), "SK": session_sk(session.session_id)}
            if self._table.resource.get_item(Key=key, ConsistentRead=True).get("Item") is not None:
                return session
        return None

    def connection_of(self, cookies: list[str] | None) -> str | None:
        session = self.session_of(cookies)
        return session.connection_id if session else None

    def end(self, session: Session) -> None:
        key = {"PK": connection_pk(session.connection_id), "SK": session_sk(session.session_id)}
        self._table.resource.delete_item(Key=key)

    def end_all(self, connection_id: str) -> int:
        """End every session of a connection (a reinstall: whoever held one must come through HubSpot again)."""
        return self._table.delete_prefixes(connection_pk(connection_id), {"sessions": SESSIONS})["sessions"]
