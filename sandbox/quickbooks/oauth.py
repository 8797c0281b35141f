"""Intuit's OAuth 2.0: authorize, token grants with refresh-token rotation, revoke, discovery."""

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.http import ApiError

ACCESS_TOKEN_SECONDS = 3600
REFRESH_TOKEN_SECONDS = 8_726_400  # about 101 days
HARD_EXPIRY_SECONDS = 5 * 365 * 86400
CODE_SECONDS = 300


def oauth_error(error: str, status: int = 400) -> ApiError:
    return ApiError(status, {"error": error})


@dataclass
class RefreshToken:
    realm_id: str
    expires: float
    used: bool = False


@dataclass
class IntuitOAuth:
    """Refresh tokens are single-use here: each refresh answers a new one and retires the old one, so a
    client that loses the newest token (two workers refreshing at once) gets invalid_grant."""

    client_id: str | None
    client_secret: str | None
    dev_token: str
    codes: dict[str, tuple[str, float, bool, str]] = field(default_factory=dict)  # redirect, expiry, used, realm
    access: dict[str, tuple[float, str]] = field(default_factory=dict)  # expiry, realm
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self, args: dict[str, str], realm_id: str) -> str:
        """The URL the browser is sent back to, connecting the company the user chose."""
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri:
            raise ApiError(400, "redirect_uri is required", content_type="text/plain")
        if self.client_id and args.get("client_id") != self.client_id:
            raise ApiError(400, "invalid_client: unknown client_id", content_type="text/plain")
        if "com.intuit.quickbooks.accounting" not in args.get("scope", "").split():
            raise ApiError(
                400, "invalid_scope: com.intuit.quickbooks.accounting is required", content_type="text/plain"
            )
        separator = "&" if "?" in redirect_uri else "?"
        state = f"&state={args['state']}" if args.get("state") else ""
        if args.get("sandbox_reject"):
            return f"{redirect_uri}{separator}error=access_denied{state}"
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (redirect_uri, time.time() + CODE_SECONDS, False, realm_id)
        return f"{redirect_uri}{separator}code={code}{state}&realmId={realm_id}"

    def _client_ok(self, authorization: str) -> bool:
        if not self.client_id:
            return True
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return secrets.compare_digest(authorization.removeprefix("Basic ").strip(), expected)

    def _issue(self, realm_id: str, hard_expiry: bool) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        refresh = "AB11" + secrets.token_hex(22)
        now = time.time()
        self.access[access] = (now + ACCESS_TOKEN_SECONDS, realm_id)
        self.refresh[refresh] = RefreshToken(realm_id, now + REFRESH_TOKEN_SECONDS)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "x_refresh_token_expires_in": REFRESH_TOKEN_SECONDS,
        }
        if hard_expiry:
            body["x_refresh_token_hard_expires_in"] = HARD_EXPIRY_SECONDS
        return body

    def token(self, authorization: str, form: dict[str, str], hard_expiry: bool = False) -> dict[str, Any]:
        if not self._client_ok(authorization):
            raise oauth_error("invalid_client", 401)
        grant_type = form.get("grant_type")
        with self.lock:
            if grant_type == "authorization_code":
                entry = self.codes.get(form.get("code", ""))
                if entry is None or entry[2] or entry[1] < time.time() or entry[0] != form.get("redirect_uri"):
                    raise oauth_error("invalid_grant")
                self.codes[form["code"]] = (entry[0], entry[1], True, entry[3])
                return self._issue(entry[3], hard_expiry)
            if grant_type == "refresh_token":
                token = self.refresh.get(form.get("refresh_token", ""))
                if token is None or token.used or token.expires < time.time():
                    raise oauth_error("invalid_grant")
                token.used = True
                return self._issue(token.realm_id, hard_expiry)
        raise oauth_error("unsupported_grant_type")

    def revoke(self, authorization: str, token: str) -> None:
        if not self._client_ok(authorization):
            raise oauth_error("invalid_client", 401)
        with self.lock:
            if token in self.refresh:
                self.refresh[token].used = True
                realm = self.refresh[token].realm_id
                for access, (_, granted) in self.access.items():  # revoking the grant ends its access tokens
                    if granted == realm:
                        self.access[access] = (0.0, granted)
            elif token in self.access:
                self.access[token] = (0.0, self.access[token][1])
            self.revoked.add(token)

    def valid(self, token: str) -> bool:
        if token == self.dev_token:
            return True
        return self.access.get(token, (0.0, ""))[0] > time.time()

    def realm_of(self, token: str) -> str | None:
        """The company an access token was granted for (None for the developer token and unknown ones)."""
        entry = self.access.get(token)
        return entry[1] if entry is not None else None

    def expire_access_tokens(self) -> int:
        with self.lock:
            for token, (_, realm) in self.access.items():
                self.access[token] = (0.0, realm)
            return len(self.access)

    @staticmethod
    def discovery(base_url: str) -> dict[str, Any]:
        return {
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": f"{base_url}/connect/oauth2",
            "token_endpoint": f"{base_url}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base_url}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base_url}/v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base_url}/op/v1/jwks",
            "response_types_supported": ["code"],
            "scopes_supported": [
                "openid",
                "email",
                "profile",
                "address",
                "phone",
                "com.intuit.quickbooks.accounting",
                "com.intuit.quickbooks.payment",
            ],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
