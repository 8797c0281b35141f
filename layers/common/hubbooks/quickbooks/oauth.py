"""Intuit's OAuth 2.0 for QuickBooks Online: authorize URL, code and refresh grants (rotating), revoke."""

from urllib.parse import urlencode

import requests

from hubbooks.auth.grants import Grant, OAuthError

SCOPE = "com.intuit.quickbooks.accounting"


class IntuitOAuth:
    def __init__(
        self,
        session: requests.Session,
        *,
        authorize_url: str,
        token_url: str,
        revoke_url: str,
        client_id: str,
        client_secret: str,
        timeout: float,
    ) -> None:
        self._session = session
        self._authorize_url = authorize_url
        self._token_url = token_url
        self._revoke_url = revoke_url
        self._auth = (client_id, client_secret)
        self._client_id = client_id
        self._timeout = timeout

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "scope": SCOPE,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self._authorize_url}?{query}"

    def _token(self, form: dict[str, str]) -> Grant:
        response = self._session.post(
            self._token_url,
            data=form,
            auth=self._auth,
            timeout=self._timeout,
            headers={"Accept": "application/json"},
        )
        if response.status_code >= 400:
            try:
                error = str(response.json().get("error", response.status_code))
            except ValueError:
                error = str(response.status_code)
            raise OAuthError("quickbooks", error)
        return Grant.from_response(response.json())

    def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        return self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    def refresh(self, refresh_token: str) -> Grant:
        """Each refresh may answer a new refresh token; the caller must store it before anything else."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token: str) -> bool:
        response = self._session.post(
            self._revoke_url,
            json={"token": token},
            auth=self._auth,
            timeout=self._timeout,
            headers={"Accept": "application/json"},
        )
        return response.status_code in (200, 204)
