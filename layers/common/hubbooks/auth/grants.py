"""What both providers' token endpoints answer, and how they refuse."""

import time

from pydantic import BaseModel, SecretStr

# Refresh this long before the provider's expiry, so a token never expires mid-call.
EXPIRY_MARGIN_SECONDS = 300


class Grant(BaseModel):
    access_token: SecretStr
    refresh_token: SecretStr
    expires_at: float

    @classmethod
    def from_response(cls, body: dict[str, object]) -> "Grant":
        lifetime = float(str(body.get("expires_in", 0)))
        return cls(
            access_token=SecretStr(str(body["access_token"])),
            refresh_token=SecretStr(str(body["refresh_token"])),
            expires_at=time.time() + lifetime,
        )


class OAuthError(Exception):
    """The provider refused a grant. `revoked` is true for invalid_grant: only a new consent helps."""

    def __init__(self, provider: str, error: str, description: str = "") -> None:
        super().__init__(f"{provider} refused the grant: {error}")
        self.provider = provider
        self.error = error
        self.description = description

    @property
    def revoked(self) -> bool:
        return self.error in ("invalid_grant", "BAD_REFRESH_TOKEN", "BAD_AUTH_CODE")
