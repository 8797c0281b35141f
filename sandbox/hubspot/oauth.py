"""HubSpot's OAuth 2.0: authorize, authorization_code and refresh_token grants, token info, revoke."""

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.http import ApiError

ACCESS_TOKEN_SECONDS = 1800
CODE_SECONDS = 600


def oauth_error(status: str, message: str, code: int = 400) -> ApiError:
    """The token endpoint's error shape (status names as HubSpot reports them)."""
    error = "invalid_grant" if status in ("BAD_AUTH_CODE", "BAD_REFRESH_TOKEN") else "invalid_request"
    body = {
        "status": status,
        "message": message,
        "error": error,
        "error_description": message,
        "correlationId": str(uuid.uuid4()),
        "category": "VALIDATION_ERROR",
    }
    return ApiError(code, body)


@dataclass
class Grant:
    scopes: list[str]
    redirect_uri: str
    expires: float
    portal_id: int
    used: bool = False


@dataclass
class Token:
    """An access or refresh token: the portal it was granted in, its scopes and (access) its expiry."""

    portal_id: int
    scopes: list[str]
    expires: float = float("inf")


@dataclass
class OAuthServer:
    app_id: int
    client_id: str | None
    client_secret: str | None
    dev_token: str
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, Token] = field(default_factory=dict)
    refresh: dict[str, Token] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self, args: dict[str, str], portal_id: int) -> str:
        """The URL the browser is sent back to (approved at once for the portal the user is signed in to,
        unless sandbox_reject is given)."""
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri:
            raise ApiError(400, "redirect_uri is required", content_type="text/plain")
        if self.client_id and args.get("client_id") != self.client_id:
            raise ApiError(400, "Unknown client_id: this app does not exist", content_type="text/plain")
        separator = "&" if "?" in redirect_uri else "?"
        state = args.get("state")
        state_part = f"&state={state}" if state else ""
        if args.get("sandbox_reject"):
            return f"{redirect_uri}{separator}error=access_denied&error_description=The+user+denied+access{state_part}"
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = Grant(
                # An optional scope is granted where the account has it (every sandbox account does).
                [*args.get("scope", "oauth").split(), *args.get("optional_scope", "").split()],
                redirect_uri,
                time.time() + CODE_SECONDS,
                portal_id,
            )
        return f"{redirect_uri}{separator}code={code}{state_part}"

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        if self.client_id and (
            form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret
        ):
            raise oauth_error("BAD_CLIENT_ID", "missing or unknown client id, or wrong client secret")
        grant_type = form.get("grant_type")
        with self.lock:
            if grant_type == "authorization_code":
                grant = self.codes.get(form.get("code", ""))
                if grant is None or grant.used or grant.expires < time.time():
                    raise oauth_error("BAD_AUTH_CODE", "missing or invalid auth code")
                if form.get("redirect_uri") != grant.redirect_uri:
                    raise oauth_error("BAD_REDIRECT_URI", "redirect_uri does not match the authorization request")
                grant.used = True
                refresh = secrets.token_hex(18)
                self.refresh[refresh] = Token(grant.portal_id, grant.scopes)
            elif grant_type == "refresh_token":
                refresh = form.get("refresh_token", "")
                if refresh not in self.refresh:
                    raise oauth_error("BAD_REFRESH_TOKEN", "refresh token is invalid, expired or revoked")
            else:
                raise oauth_error("BAD_GRANT_TYPE", f"unsupported grant_type {grant_type!r}")
            granted = self.refresh[refresh]
            access = secrets.token_hex(24)
            self.access[access] = Token(granted.portal_id, granted.scopes, time.time() + ACCESS_TOKEN_SECONDS)
        return {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "hub_id": granted.portal_id,
            "scopes": granted.scopes,
            "token_use": "access_token",
            "user_id": 1,
        }

    def valid(self, token: str) -> bool:
        if token == self.dev_token:
            return True
        entry = self.access.get(token)
        return entry is not None and entry.expires > time.time()

    def scopes_of(self, token: str) -> list[str]:
        entry = self.access.get(token)
        return entry.scopes if entry is not None else []

    def portal_of(self, token: str) -> int | None:
        """The portal an access token works in (None for the developer key and unknown tokens)."""
        entry = self.access.get(token)
        return entry.portal_id if entry is not None else None

    def info(self, token: str) -> dict[str, Any]:
        entry = self.access.get(token)
        if entry is None or entry.expires < time.time():
            raise ApiError(
                404,
                {
                    "status": "error",
                    "message": "The OAuth token used to make this call expired or does not exist",
                    "correlationId": str(uuid.uuid4()),
                    "category": "EXPIRED_AUTHENTICATION",
                },
            )
        return {
            "token": token,
            "user": "sandbox-user@example.com",
            "hub_domain": f"portal-{entry.portal_id}.example",
            "scopes": entry.scopes,
            "hub_id": entry.portal_id,
            "app_id": self.app_id,
            "expires_in": int(entry.expires - time.time()),
            "user_id": 1,
            "token_type": "access",
        }

    def revoke_refresh(self, token: str) -> bool:
        with self.lock:
            return self.refresh.pop(token, None) is not None

    def expire_access_tokens(self) -> int:
        with self.lock:
            for entry in self.access.values():
                entry.expires = 0.0
            return len(self.access)
