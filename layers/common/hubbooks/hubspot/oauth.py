"""HubSpot's OAuth 2.0: authorize URL, code and refresh grants, token info, revoke."""

from typing import Any
from urllib.parse import urlencode

import requests

from hubbooks.auth.grants import Grant, OAuthError
from hubbooks.errors import UnavailableError

SCOPES = (
    "oauth crm.objects.contacts.read crm.objects.contacts.write e-commerce crm.objects.deals.read "
    "crm.objects.deals.write crm.objects.invoices.read crm.objects.invoices.write crm.schemas.contacts.write "
    "crm.schemas.deals.write crm.lists.read timeline automation"
)
# Granted where the account has them: the deal's tax as HubSpot computes it (to check an invoice's total
# against), quotes (estimates made from them show their status there) and HubSpot payments (sales receipts).
OPTIONAL_SCOPES = "tax_rates.read crm.objects.quotes.read crm.objects.quotes.write crm.objects.commercepayments.read"


class HubSpotOAuth:
    def __init__(
        self,
        session: requests.Session,
        *,
        api_base: str,
        authorize_url: str,
        client_id: str,
        client_secret: str,
        timeout: float,
    ) -> None:
        self._session = session
        self._api_base = api_base.rstrip("/")
        self._authorize_url = authorize_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = timeout

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "scope": SCOPES,
                "optional_scope": OPTIONAL_SCOPES,
                "state": state,
            }
        )
        return f"{self._authorize_url}?{query}"

    def _token(self, form: dict[str, str]) -> Grant:
        response = self._session.post(
            f"{self._api_base}/oauth/v1/token",
            timeout=self._timeout,
            data={"client_id": self._client_id, "client_secret": self._client_secret, **form},
        )
        if response.status_code >= 400:
            body = _json(response)
            raise OAuthError(
                "hubspot",
                str(body.get("status") or body.get("error") or response.status_code),
                str(body.get("message", "")),
            )
        return Grant.from_response(response.json())

    def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        return self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    def refresh(self, refresh_token: str) -> Grant:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def portal_of(self, access_token: str) -> int:
        response = self._token_call("GET", f"/oauth/v1/access-tokens/{access_token}")
        if response.status_code != 200:
            raise OAuthError("hubspot", f"token info answered {response.status_code}")
        return int(response.json()["hub_id"])

    def revoke(self, refresh_token: str) -> bool:
        response = self._token_call("DELETE", f"/oauth/v1/refresh-tokens/{refresh_token}")
        return response.status_code in (200, 204, 404)

    def _token_call(self, method: str, path: str) -> requests.Response:
        """A call whose URL holds a token: a failure is told without the URL (it would put the token in logs)."""
        try:
            return self._session.request(method, f"{self._api_base}{path}", timeout=self._timeout)
        except requests.RequestException as exc:
            raise UnavailableError("hubspot", f"{method} {path.rsplit('/', 1)[0]}/…: {type(exc).__name__}") from None


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
