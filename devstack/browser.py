"""A minimal browser for driving OAuth flows: follows redirects across hosts and keeps cookies as
Chromium does for loopback addresses (Secure cookies are sent to http://127.0.0.1)."""

import html
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

_FORM = re.compile(r'<form method="post" action="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@dataclass
class Browser:
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)  # host -> name -> value
    history: list[requests.Response] = field(default_factory=list)
    http: requests.Session = field(default_factory=requests.Session)

    def _remember(self, response: requests.Response) -> None:
        host = urlsplit(response.url).netloc
        for header in response.raw.headers.getlist("Set-Cookie") if response.raw else []:
            parsed = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                if morsel["max-age"] == "0":
                    self.cookies.get(host, {}).pop(name, None)
                else:
                    self.cookies.setdefault(host, {})[name] = morsel.value

    def cookie(self, url: str, name: str) -> str | None:
        return self.cookies.get(urlsplit(url).netloc, {}).get(name)

    def _cookie_header(self, url: str) -> dict[str, str]:
        jar = self.cookies.get(urlsplit(url).netloc, {})
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}

    def set_cookie(self, url: str, name: str, value: str) -> None:
        self.cookies.setdefault(urlsplit(url).netloc, {})[name] = value

    def request(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        json: Any = None,
        max_redirects: int = 10,
    ) -> requests.Response:
        for _ in range(max_redirects):
            headers = self._cookie_header(url)
            if method != "GET":  # what a browser says of a request sent from a page of the same origin
                parts = urlsplit(url)
                headers |= {"Origin": f"{parts.scheme}://{parts.netloc}", "Sec-Fetch-Site": "same-origin"}
            response = self.http.request(
                method, url, data=data, json=json, headers=headers, allow_redirects=False, timeout=30
            )
            self.history.append(response)
            self._remember(response)
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            url = urljoin(url, response.headers["Location"])
            method, data, json = "GET", None, None
        raise RuntimeError(f"more than {max_redirects} redirects")

    def get(self, url: str) -> requests.Response:
        return self.request("GET", url)

    def step(self, url: str) -> requests.Response:
        """One GET with this browser's cookies, its redirect not followed."""
        response = self.http.get(url, headers=self._cookie_header(url), allow_redirects=False, timeout=30)
        self.history.append(response)
        self._remember(response)
        return response

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        return self.request("POST", url, data=data)

    def submit(self, page: requests.Response, **fields: str) -> requests.Response:
        """Submit the page's form with its hidden fields and `fields` (the button pressed), as a person would."""
        form = _FORM.search(page.text)
        if form is None:
            raise ValueError(f"no form on {page.url}")
        data = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)} | fields
        return self.post(urljoin(page.url, html.unescape(form.group(1))), data)
