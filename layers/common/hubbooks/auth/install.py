"""Installing hubbooks: HubSpot consent, then a QuickBooks company, then a session; and disconnecting."""

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aws_lambda_powertools import Logger
from aws_lambda_powertools.shared.cookies import Cookie

from hubbooks.auth.grants import OAuthError
from hubbooks.auth.sessions import Sessions
from hubbooks.auth.signing import InvalidSignatureError, Signer
from hubbooks.auth.tokens import TokenProvider, forget_cached
from hubbooks.errors import AuthRejectedError, ProviderError, RateLimitedError, ValidationFaultError
from hubbooks.hubspot.oauth import HubSpotOAuth
from hubbooks.models.connection import Connection, ConnectionStatus, ConnectionWarning, Provider, utc_now
from hubbooks.quickbooks import company
from hubbooks.quickbooks.client import QboClient
from hubbooks.quickbooks.oauth import IntuitOAuth
from hubbooks.store.connections import ConnectionGoneError, ConnectionRepository, RealmTakenError
from hubbooks.store.states import (
    OtherBrowserError,
    PendingConsent,
    PendingConsents,
    StateError,
    StateRepository,
    flow_digest,
)

logger = Logger(child=True)
INSTALL_SECONDS = 600
INSPECT_ATTEMPTS = 3
INSPECT_RETRY_SECONDS = 1.5


class InstallError(Exception):
    """A step of the install the person has to see explained (400 for bad requests, 409 for conflicts)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(frozen=True)
class Installed:
    connection: Connection
    session_cookie: Cookie


@dataclass(frozen=True)
class ConsentToConfirm:
    """A QuickBooks consent shown to the person before anything is bound: which company, which HubSpot account."""

    company_name: str
    realm_id: str
    portal_id: int
    confirm_token: str


def _callback(public_base: str, provider: str) -> str:
    return f"{public_base}/oauth/{provider}/callback"


def _unreachable() -> InstallError:
    """QuickBooks refused, at hubbooks' API host, the access it had just granted. Intuit documents that
    production keys reach production companies only and that sandbox companies answer only at the sandbox
    host: a company whose consent succeeded but whose API refuses it is, for a production deployment, a
    sandbox (test) company, however the refusal is worded."""
    return InstallError(
        400,
        "QuickBooks sandbox companies cannot be connected",
        "QuickBooks let hubbooks in, then refused to show this company: it is a QuickBooks Online sandbox (a "
        "test company), which only Intuit's developer tools can reach. hubbooks syncs real companies: connect "
        "your production QuickBooks company.",
    )


def _other_browser() -> InstallError:
    return InstallError(
        400,
        "Finish in the browser you started in",
        "This connection was started in another browser, or too long ago, so nothing was connected. "
        "If you meant to connect, start again from HubSpot in this browser.",
    )


def _refusal(exc: Exception, realm_id: str) -> InstallError:
    """Why a QuickBooks company cannot join, in words (the install's own refusals pass as they are)."""
    if isinstance(exc, InstallError):
        return exc
    owner = getattr(exc, "owner", None)
    holder = f"HubSpot account {owner.portal_id}" if owner else "another HubSpot account"
    return InstallError(
        409,
        "This QuickBooks company is already connected",
        f"QuickBooks company {realm_id} syncs with {holder}. A company can sync with one HubSpot account: "
        "disconnect it there first.",
    )


class InstallService:
    def __init__(
        self,
        *,
        connections: ConnectionRepository,
        states: StateRepository,
        tokens: TokenProvider,
        hubspot: HubSpotOAuth,
        intuit: IntuitOAuth,
        qbo_client: Callable[[str, str, str], QboClient],
        sessions: Sessions,
        signing_key: str,
        pending: PendingConsents,
    ) -> None:
        self._connections = connections
        self._states = states
        self._tokens = tokens
        self._hubspot = hubspot
        self._intuit = intuit
        self._qbo_client = qbo_client
        self._sessions = sessions
        self._install = Signer(signing_key, "install")
        self._confirm = Signer(signing_key, "disconnect")
        self._connect = Signer(signing_key, "connect")
        self._pending = pending

    # -- HubSpot -----------------------------------------------------------------------------------

    def start_hubspot(self, public_base: str, flow: str) -> str:
        """Where the browser goes to install; `flow` is the secret its flow cookie carries."""
        state = self._states.issue("hubspot", flow=flow)
        return self._hubspot.authorize_url(_callback(public_base, "hubspot"), state)

    def _consume(self, provider: Provider, params: Mapping[str, str], flow: str | None) -> dict[str, str]:
        try:
            state = self._states.consume(params.get("state"), provider, flow)
        except OtherBrowserError as exc:
            raise _other_browser() from exc
        except StateError as exc:
            raise InstallError(
                400,
                "This link has expired",
                f"The connection request could not be verified ({exc}). Start again from HubSpot or the settings page.",
            ) from exc
        if params.get("error"):
            # A fixed sentence per code: the provider's words arrive in the URL, where anyone can write them.
            name = "HubSpot" if provider == "hubspot" else "QuickBooks"
            why = "you chose not to allow access" if params["error"] == "access_denied" else "access was not granted"
            raise InstallError(
                400,
                f"{name} did not grant access",
                f"{name} says {why}: nothing was connected. Start again and choose Allow/Connect when {name} asks.",
            )
        if not params.get("code"):
            raise InstallError(400, "Missing authorization code", "The provider sent no code; start again.")
        return {k: str(v) for k, v in state.items()}

    def finish_hubspot(self, public_base: str, params: Mapping[str, str], flow: str | None) -> str:
        """Exchange HubSpot's code; answer the install hand-off, which the browser keeps in a cookie (never a
        URL, which could be sent to someone else) on its way to connecting QuickBooks."""
        self._consume("hubspot", params, flow)
        try:
            grant = self._hubspot.exchange_code(params["code"], _callback(public_base, "hubspot"))
            portal_id = self._hubspot.portal_of(grant.access_token.get_secret_value())
        except ProviderError as exc:
            message = "Nothing was installed; try again in a minute."
            raise InstallError(503, "HubSpot is not answering", message) from exc
        except OAuthError as exc:
            raise InstallError(
                400,
                "HubSpot refused the authorization code",
                f"HubSpot answered {exc.error}. The code may have been used already; start the "
                "install again from HubSpot.",
            ) from exc
        connection = self._connections.by_portal(portal_id)
        if connection is not None:  # a reinstall: whoever held a session comes through HubSpot again
            self._sessions.end_all(connection.connection_id)
        if connection is None:
            connection = self._connections.create(Connection(connection_id=uuid.uuid4().hex, portal_id=portal_id))
        self._tokens.store_grant(connection.connection_id, "hubspot", grant)
        if (
            connection.status == ConnectionStatus.NEEDS_REAUTH
            and connection.status_reason
            and connection.status_reason.startswith("hubspot")
        ):
            connection.status = ConnectionStatus.ACTIVE if connection.realm_id else ConnectionStatus.PENDING_QUICKBOOKS
            connection.status_reason = None
            self._connections.save(connection)
        logger.info("HubSpot installed", extra={"connection_id": connection.connection_id, "portal_id": portal_id})
        return self._install.sign({"c": connection.connection_id}, INSTALL_SECONDS)

    # -- QuickBooks --------------------------------------------------------------------------------

    def connection_for_install(self, install: str | None, session_connection: str | None) -> Connection:
        connection_id = session_connection
        if install:
            try:
                connection_id = str(self._install.verify(install)["c"])
            except (InvalidSignatureError, KeyError) as exc:
                raise InstallError(
                    400, "This link has expired", "Install hubbooks from HubSpot again to connect QuickBooks."
                ) from exc
        connection = self._connections.get(connection_id) if connection_id else None
        if connection is None:
            raise InstallError(
                401,
                "Install from HubSpot first",
                "hubbooks connects QuickBooks to a HubSpot account: install it from HubSpot first.",
            )
        return connection

    def start_quickbooks(self, public_base: str, connection: Connection, flow: str) -> str:
        state = self._states.issue("quickbooks", flow=flow, connection_id=connection.connection_id)
        return self._intuit.authorize_url(_callback(public_base, "quickbooks"), state)

    def finish_quickbooks(self, public_base: str, params: Mapping[str, str], flow: str | None) -> ConsentToConfirm:
        """Take Intuit's answer, read the company with the new grant, and keep the grant apart (sealed) until
        the person confirms which company joins which HubSpot account; nothing is bound or stored before."""
        state = self._consume("quickbooks", params, flow)
        connection = self._connections.get(state.get("connection_id", ""))
        realm_id = params.get("realmId", "")
        if connection is None or not realm_id.isdigit():
            raise InstallError(
                400,
                "Install from HubSpot first",
                "This QuickBooks connection has no HubSpot account to join; install hubbooks from HubSpot again.",
            )
        if connection.realm_id and connection.realm_id != realm_id:
            raise InstallError(
                409,
                "Another QuickBooks company is connected",
                f"This HubSpot account is connected to QuickBooks company {connection.company_name} "
                f"({connection.realm_id}). Disconnect it on the settings page before connecting "
                "another company.",
            )
        try:
            grant = self._intuit.exchange_code(params["code"], _callback(public_base, "quickbooks"))
        except OAuthError as exc:
            raise InstallError(
                400,
                "QuickBooks refused the authorization code",
                f"Intuit answered {exc.error}. Start connecting QuickBooks again.",
            ) from exc
        cid = connection.connection_id
        try:
            company, warnings = self._inspect_company(cid, realm_id, grant.access_token.get_secret_value())
            owner = self._connections.by_realm(realm_id)
            if owner is not None and owner.connection_id != cid:
                raise RealmTakenError(owner)
        except (InstallError, RealmTakenError) as exc:
            self._intuit.revoke(grant.refresh_token.get_secret_value())
            raise _refusal(exc, realm_id) from exc
        assert flow is not None  # the state was bound to it
        self._pending.put(
            PendingConsent(
                cid,
                realm_id,
                company,
                [w.model_dump() for w in warnings],
                self._tokens.seal(cid, "quickbooks", grant),
                grant.expires_at,
                flow_digest(flow),
            )
        )
        return ConsentToConfirm(
            company, realm_id, connection.portal_id, self._connect.sign({"c": cid}, INSTALL_SECONDS)
        )

    def confirm_quickbooks(self, confirm_token: str, connect: bool, flow: str | None) -> Installed | None:
        """The person's answer to "connect company X to HubSpot account Y?": bind and keep the grant, or
        give the grant back (None)."""
        try:
            cid = str(self._connect.verify(confirm_token)["c"])
            pending = self._pending.take(cid, flow)
        except OtherBrowserError as exc:
            raise _other_browser() from exc
        except (InvalidSignatureError, KeyError, StateError) as exc:
            raise InstallError(
                400, "This confirmation has expired", "Nothing was connected. Start connecting QuickBooks again."
            ) from exc
        grant = self._tokens.unseal(cid, "quickbooks", pending.sealed_grant, pending.expires_at)
        connection = self._connections.get(cid)
        if not connect or connection is None:
            self._intuit.revoke(grant.refresh_token.get_secret_value())
            return None
        connection.company_name = pending.company_name
        connection.warnings = [ConnectionWarning.model_validate(w) for w in pending.warnings]
        connection.company_checked_at = utc_now()
        connection.status = ConnectionStatus.ACTIVE
        connection.status_reason = None
        try:
            self._connections.bind_realm(connection, pending.realm_id)
        except RealmTakenError as exc:
            self._intuit.revoke(grant.refresh_token.get_secret_value())
            raise _refusal(exc, pending.realm_id) from exc
        self._tokens.store_grant(cid, "quickbooks", grant)  # only now, over the grant this connection had
        forget_cached(cid)
        logger.info("QuickBooks connected", extra={"connection_id": cid, "realm_id": pending.realm_id})
        return Installed(connection, self._sessions.cookie(cid))

    def _inspect_company(
        self, connection_id: str, realm_id: str, access_token: str
    ) -> tuple[str, list[ConnectionWarning]]:
        client = self._qbo_client(connection_id, realm_id, access_token)
        for attempt in range(INSPECT_ATTEMPTS):
            try:
                info = client.company_info()
                preferences = client.preferences()
                break
            except RateLimitedError as exc:
                # A person is waiting: retry briefly rather than for the minute QBO asks of batch work.
                if attempt == INSPECT_ATTEMPTS - 1:
                    raise InstallError(
                        503,
                        "QuickBooks is busy",
                        "QuickBooks asked hubbooks to slow down; try connecting again in a minute.",
                    ) from exc
                time.sleep(min(exc.retry_after, INSPECT_RETRY_SECONDS))
            except AuthRejectedError as exc:
                raise _unreachable() from exc
            except ValidationFaultError as exc:
                if exc.status in (401, 403):
                    raise _unreachable() from exc
                raise InstallError(
                    400,
                    "QuickBooks refused to share the company",
                    f"QuickBooks answered {exc.code} {exc.fault_message}.",
                ) from exc
            except ProviderError as exc:
                raise InstallError(503, "QuickBooks is not answering", "Try connecting again in a minute.") from exc
        return str(info.get("CompanyName") or realm_id), company.warnings_of(preferences)

    # -- disconnect --------------------------------------------------------------------------------

    def confirm_token(self, connection: Connection) -> str:
        return self._confirm.sign({"c": connection.connection_id}, INSTALL_SECONDS)

    def disconnect(self, connection: Connection, confirm: str | None) -> int:
        """Revoke both grants, stop every sync and delete the connection's data; answers items deleted."""
        try:
            confirmed = confirm is not None and self._confirm.verify(confirm).get("c") == connection.connection_id
        except InvalidSignatureError:
            confirmed = False
        if not confirmed:
            raise InstallError(
                400,
                "Confirm the disconnect",
                "Disconnecting deletes hubbooks' sync data; open the disconnect page and confirm.",
            )
        cid = connection.connection_id
        revokers: dict[Provider, Callable[[str], bool]] = {
            "hubspot": self._hubspot.revoke,
            "quickbooks": self._intuit.revoke,
        }
        for provider, revoke in revokers.items():
            try:
                refresh = self._tokens.refresh_token(cid, provider)
                if refresh:
                    revoke(refresh)
            except Exception:
                logger.warning("could not revoke tokens", extra={"provider": provider, "connection_id": cid})
        deleted = self._connections.delete(connection)
        forget_cached(cid)
        logger.info("disconnected", extra={"connection_id": cid, "items_deleted": deleted})
        return deleted


def mark_needs_reauth(connections: ConnectionRepository, public_base: str) -> Callable[[str, Provider, str], None]:
    """What the token provider does when a provider revokes our grant: pause syncs and explain."""

    def mark(connection_id: str, provider: Provider, reason: str) -> None:
        connection = connections.get(connection_id)
        if connection is None:
            return
        name, path = ("HubSpot", "connect/hubspot") if provider == "hubspot" else ("QuickBooks", "connect/quickbooks")
        where = f"{public_base}/{path}" if public_base else f"the settings page (Reconnect {name})"
        connection.status = ConnectionStatus.NEEDS_REAUTH
        connection.status_reason = (
            f"{provider}: {name} no longer accepts hubbooks' authorization ({reason}). Syncs "
            f"are paused; reconnect {name} at {where} to resume them."
        )
        try:
            connections.save(connection)
        except ConnectionGoneError:
            return  # disconnected meanwhile: nothing is left to pause
        logger.warning("connection needs reauthorization", extra={"connection_id": connection_id, "provider": provider})

    return mark
