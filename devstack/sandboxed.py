"""The whole product on one machine: both sandbox emulators, and template.yaml on devstack wired to them."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import requests

from devstack.browser import Browser
from devstack.stack import Devstack
from hubbooks.cli import register_actions
from sandbox.client import HubSpotAdmin, QuickBooksAdmin
from sandbox.http import RunningServer, serve
from sandbox.hubspot import app as hubspot_app
from sandbox.hubspot.app import HubSpotEmulator
from sandbox.quickbooks import app as quickbooks_app
from sandbox.quickbooks.app import QuickBooksEmulator


@dataclass(frozen=True)
class AppCredentials:
    """The app registration both providers know hubbooks by (what an operator puts in AppSecret)."""

    portal_id: int = 4_455_001
    realm_id: str = "9130355512345"
    dev_token: str = "sandbox-dev-token"
    hubspot_app_id: int = 4_242_424
    hubspot_client_id: str = "hubbooks-hs-client"
    hubspot_client_secret: str = "hubbooks-hs-secret"
    qbo_client_id: str = "hubbooks-qbo-client"
    qbo_client_secret: str = "hubbooks-qbo-secret"
    qbo_verifier_token: str = "hubbooks-qbo-verifier"

    def secret_values(self) -> dict[str, str]:
        return {
            "hubspot_client_id": self.hubspot_client_id,
            "hubspot_client_secret": self.hubspot_client_secret,
            "qbo_client_id": self.qbo_client_id,
            "qbo_client_secret": self.qbo_client_secret,
            "qbo_verifier_token": self.qbo_verifier_token,
            "hubspot_app_id": str(self.hubspot_app_id),
            "hubspot_developer_api_key": self.dev_token,
        }


@dataclass
class SandboxedProduct:
    stack_name: str = "hubbooks-dev"
    credentials: AppCredentials = field(default_factory=AppCredentials)
    sandbox_time_scale: float = 1.0
    devstack_time_scale: float = 0.01
    run_schedules: bool = True
    run_pumps: bool = True
    schedule_scale: float | None = None
    log_level: str = "INFO"
    function_environment: dict[str, str] = field(default_factory=dict)
    # Template parameters over the sandbox's own (e.g. PublicBaseUrl "" for a default deployment).
    stack_parameters: dict[str, str] = field(default_factory=dict)
    # A WSGI middleware around each emulator (the tests record traffic with it to check the contracts).
    middleware: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        self.hubspot: RunningServer | None = None
        self.quickbooks: RunningServer | None = None
        self.stack: Devstack | None = None
        self._admins = threading.local()  # a thread's admin clients, each keeping its connection

    def start(self) -> Self:
        c = self.credentials
        wrap = self.middleware or (lambda app: app)
        hubspot = HubSpotEmulator(
            portal_id=c.portal_id,
            dev_token=c.dev_token,
            app_id=c.hubspot_app_id,
            client_id=c.hubspot_client_id,
            client_secret=c.hubspot_client_secret,
            time_scale=self.sandbox_time_scale,
        )
        quickbooks = QuickBooksEmulator(
            realm_id=c.realm_id,
            dev_token=c.dev_token,
            client_id=c.qbo_client_id,
            client_secret=c.qbo_client_secret,
            verifier_token=c.qbo_verifier_token,
            time_scale=self.sandbox_time_scale,
        )
        self.hubspot = serve(hubspot, wsgi=wrap(hubspot))
        self.quickbooks = serve(quickbooks, wsgi=wrap(quickbooks))
        hs, qbo = self.hubspot.url, self.quickbooks.url
        self.stack = Devstack(
            stack_name=self.stack_name,
            time_scale=self.devstack_time_scale,
            run_schedules=self.run_schedules,
            run_pumps=self.run_pumps,
            schedule_scale=self.schedule_scale,
            # The rate budget runs at the sandbox's time scale, as the sandbox's limits do.
            function_environment={"HUBBOOKS_RATE_TIME_SCALE": str(self.sandbox_time_scale)} | self.function_environment,
            parameters={
                "LogLevel": self.log_level,
                "HubSpotApiBase": hs,
                "HubSpotAuthorizeUrl": f"{hs}/oauth/authorize",
                "QuickBooksApiBase": qbo,
                "QuickBooksAuthorizeUrl": f"{qbo}/connect/oauth2",
                "QuickBooksTokenUrl": f"{qbo}/oauth2/v1/tokens/bearer",
                "QuickBooksRevokeUrl": f"{qbo}/v2/oauth2/tokens/revoke",
            }
            | self.stack_parameters,
        )
        self.stack.start()
        self.stack.update_secret_json("AppSecret", c.secret_values())
        return self

    @property
    def devstack(self) -> Devstack:
        if self.stack is None:
            raise RuntimeError("not started")
        return self.stack

    @property
    def hubspot_app(self) -> HubSpotEmulator:
        assert self.hubspot is not None
        assert isinstance(self.hubspot.app, HubSpotEmulator)
        return self.hubspot.app

    @property
    def quickbooks_app(self) -> QuickBooksEmulator:
        assert self.quickbooks is not None
        assert isinstance(self.quickbooks.app, QuickBooksEmulator)
        return self.quickbooks.app

    @property
    def hubspot_admin(self) -> HubSpotAdmin:
        assert self.hubspot is not None
        admin = getattr(self._admins, "hubspot", None)
        if admin is None or admin.base_url != self.hubspot.url:
            admin = self._admins.hubspot = HubSpotAdmin(self.hubspot.url)
        return admin

    @property
    def quickbooks_admin(self) -> QuickBooksAdmin:
        assert self.quickbooks is not None
        admin = getattr(self._admins, "quickbooks", None)
        if admin is None or admin.base_url != self.quickbooks.url:
            admin = self._admins.quickbooks = QuickBooksAdmin(self.quickbooks.url)
        return admin

    def add_accounts(self, portal_id: int, realm_id: str) -> tuple[HubSpotAdmin, QuickBooksAdmin]:
        """Another HubSpot portal and QuickBooks company beside the primary ones; answers their admin clients."""
        return self.hubspot_admin.add_account(str(portal_id)), self.quickbooks_admin.add_account(realm_id)

    def sign_in(self, browser: Browser, portal_id: int, realm_id: str) -> None:
        """The user of `browser` is signed in to this portal at HubSpot and picks this company at Intuit."""
        assert self.hubspot is not None
        assert self.quickbooks is not None
        browser.set_cookie(self.hubspot.url, hubspot_app.SIGNED_IN_COOKIE, str(portal_id))
        browser.set_cookie(self.quickbooks.url, quickbooks_app.SIGNED_IN_COOKIE, realm_id)

    def connect(self, browser: Browser) -> tuple[requests.Response, requests.Response]:
        """Install from HubSpot and connect QuickBooks in `browser`, as a person does: answers the page that
        asks which company joins which account (or the refusal), and the page after pressing Connect."""
        asked = browser.get(f"{self.devstack.gateway_url}/connect/hubspot")
        if asked.status_code != 200 or "/connect/quickbooks/confirm" not in asked.text:
            return asked, asked
        return asked, browser.submit(asked, decision="connect")

    def connect_webhooks(self) -> None:
        """Point both sandboxes' webhooks at the gateway, as the app registrations do in production."""
        gateway = self.devstack.gateway_url
        self.hubspot_admin.configure_webhooks(url=f"{gateway}/webhooks/hubspot")
        self.quickbooks_admin.configure_webhooks(url=f"{gateway}/webhooks/quickbooks")

    def register_actions(self) -> dict[str, str]:
        """Register the workflow actions with the sandbox's app, as `python -m hubbooks.cli register-action`
        does with HubSpot; answers their definition ids by name."""
        assert self.hubspot is not None
        return register_actions(
            api_base=self.hubspot.url,
            app_id=str(self.credentials.hubspot_app_id),
            developer_key=self.credentials.dev_token,
            actions_url=f"{self.devstack.gateway_url}/actions",
        )

    def register_invoice_action(self) -> str:
        """The "Create a QuickBooks invoice" action's definition id (every action registered)."""
        return self.register_actions()["create-invoice"]

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until both sandboxes delivered every webhook and the sync queue is drained, twice in a row
        (the worker's writes cause echoes that must settle too)."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        while quiet_rounds < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the product did not settle")
            before = self._deliveries()
            self.hubspot_admin.flush_webhooks()
            self.quickbooks_admin.flush_webhooks()
            if not self.devstack.wait_idle(timeout=max(1.0, deadline - time.monotonic())):
                raise TimeoutError("the sync queue did not drain")
            time.sleep(0.05)
            quiet_rounds = quiet_rounds + 1 if self._deliveries() == before else 0

    def _deliveries(self) -> int:
        return len(self.hubspot_admin.webhooks()["deliveries"]) + len(self.quickbooks_admin.webhooks()["deliveries"])

    def stop(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        for server in (self.hubspot, self.quickbooks):
            if server is not None:
                server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
