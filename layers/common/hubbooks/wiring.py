"""Builds the services a function needs from its settings; one set per execution environment."""

import math
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any, cast

import boto3
import requests
from botocore.config import Config

from hubbooks.auth.crypto import TokenCipher
from hubbooks.auth.install import InstallService, mark_needs_reauth
from hubbooks.auth.sessions import Sessions
from hubbooks.auth.tokens import TokenProvider
from hubbooks.config import Settings, get_settings
from hubbooks.http import make_session
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.hubspot.developer import DeveloperClient
from hubbooks.hubspot.oauth import HubSpotOAuth
from hubbooks.ingest import WebhookIngest
from hubbooks.mapping.pairs import customer_pair
from hubbooks.models.connection import Connection
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal, records_of
from hubbooks.models.sync_config import MAPPED
from hubbooks.queue import GroupedSender, SignalQueue, SweepRequests
from hubbooks.quickbooks import company
from hubbooks.quickbooks.client import QboClient
from hubbooks.quickbooks.oauth import IntuitOAuth
from hubbooks.ratelimit import RateBudget
from hubbooks.secrets import AppSecrets, load_secrets, load_signing_key
from hubbooks.store.billing import BillingStore, TimelineTemplates
from hubbooks.store.connections import ConnectionRepository
from hubbooks.store.cursors import CursorRepository
from hubbooks.store.failures import SignalFailures
from hubbooks.store.jobs import PREVIEW_JOBS, JobRepository
from hubbooks.store.lane_changes import LaneChanges
from hubbooks.store.links import LinkLookup
from hubbooks.store.previews import PreviewRepository
from hubbooks.store.states import PendingConsents, StateRepository
from hubbooks.store.sync_settings import SyncSettingsRepository
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from hubbooks.store.tokens import TokenRepository
from hubbooks.sync.accounts import AccountReader
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter, SyncPorts
from hubbooks.sync.batch import run_batch
from hubbooks.sync.billing import Billing
from hubbooks.sync.dry_run import Captured, DryRunHubSpot, DryRunQbo, PreviewStore
from hubbooks.sync.engine import Result, SyncEngine
from hubbooks.sync.hierarchy import company_tree
from hubbooks.sync.invoice_action import CreateInvoiceAction
from hubbooks.sync.invoices import InvoiceMirror
from hubbooks.sync.jobs import InitialSync
from hubbooks.sync.payments import PaymentMirror, PaymentTimeline
from hubbooks.sync.preview import preview_batch
from hubbooks.sync.settings_service import SettingsService
from hubbooks.sync.sweep import Sweeper

MAX_VISIBILITY_SECONDS = 43_200  # SQS's longest visibility timeout
# The services check every request themselves: botocore's own walk over each parameter cost more CPU than
# anything else a worker does per DynamoDB call (a transaction of 100 items is thousands of checks).
_AWS_CONFIG = Config(parameter_validation=False)


def table() -> Table:
    return _table(get_settings().table_name)


_per_thread = threading.local()


def _table(name: str) -> Table:
    """The table on this thread's own boto3 resource: resources are not thread-safe (their expression
    builder is shared), and devstack runs several invocations in one process where Lambda runs one."""
    tables: dict[str, Table] = _per_thread.__dict__.setdefault("tables", {})
    if name not in tables:
        tables[name] = Table(boto3.resource("dynamodb", config=_AWS_CONFIG).Table(name))
    return tables[name]


@lru_cache(maxsize=1)
def kms() -> Any:
    return boto3.client("kms")


@lru_cache(maxsize=1)
def http() -> requests.Session:
    return make_session()


def connections() -> ConnectionRepository:
    return ConnectionRepository(table())


def secrets() -> AppSecrets:
    return load_secrets(get_settings())


def signing_key() -> str:
    return load_signing_key(get_settings()).get_secret_value()


def sessions() -> Sessions:
    return Sessions(signing_key(), table())


def hubspot_oauth(settings: Settings, app: AppSecrets) -> HubSpotOAuth:
    return HubSpotOAuth(
        http(),
        api_base=settings.hubspot_api_base,
        authorize_url=settings.hubspot_authorize_url,
        client_id=app.hubspot_client_id,
        client_secret=app.hubspot_client_secret.get_secret_value(),
        timeout=settings.http_timeout_seconds,
    )


def intuit_oauth(settings: Settings, app: AppSecrets) -> IntuitOAuth:
    return IntuitOAuth(
        http(),
        authorize_url=settings.qbo_authorize_url,
        token_url=settings.qbo_token_url,
        revoke_url=settings.qbo_revoke_url,
        client_id=app.qbo_client_id,
        client_secret=app.qbo_client_secret.get_secret_value(),
        timeout=settings.http_timeout_seconds,
    )


def token_provider(public_base: str = "") -> TokenProvider:
    settings, app = get_settings(), secrets()
    return TokenProvider(
        TokenRepository(table()),
        TokenCipher(kms(), settings.token_key_id),
        {"hubspot": hubspot_oauth(settings, app), "quickbooks": intuit_oauth(settings, app)},
        mark_needs_reauth(connections(), public_base or settings.public_base_url),
    )


def qbo_client(tokens: TokenProvider, connection_id: str, realm_id: str) -> QboClient:
    """A QBO client for one connection, sharing the connection's rate budget with every other worker."""
    settings = get_settings()
    return _qbo(
        realm_id,
        lambda refused: tokens.access_token(connection_id, "quickbooks", refused),
        RateBudget(table(), connection_id, "quickbooks", time_scale=settings.rate_time_scale),
    )


def consent_qbo_client(realm_id: str, access_token: str) -> QboClient:
    """A QBO client on a grant not stored yet, for the install to read the company it names. Unbudgeted: a
    person is waiting, and the install retries a 429 briefly itself."""
    return _qbo(realm_id, lambda refused: access_token, None)


def _qbo(realm_id: str, tokens: Callable[[str | None], str], budget: RateBudget | None) -> QboClient:
    settings = get_settings()
    return QboClient(
        http(),
        budget=budget,
        api_base=settings.qbo_api_base,
        realm_id=realm_id,
        tokens=tokens,
        minor_version=settings.qbo_minor_version,
        timeout=settings.http_timeout_seconds,
    )


@lru_cache(maxsize=1)
def sqs() -> Any:
    return boto3.client("sqs", config=_AWS_CONFIG)


def give_back(receipt_handle: str, seconds: float) -> None:
    """Return a signal to the sync queue for `seconds` (a throttled connection's), keeping its FIFO place,
    instead of holding a worker that other connections' signals need."""
    visible_in = min(MAX_VISIBILITY_SECONDS, max(1, math.ceil(seconds)))
    sqs().change_message_visibility(
        QueueUrl=get_settings().sync_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=visible_in
    )


def count_failure(message_id: str) -> int:
    """One more failure (not a throttle or outage) of a queued signal; answers how many it has had."""
    return SignalFailures(table()).add(message_id)


def dead_letter(body: str, group_id: str, message_id: str, reason: str) -> None:
    """Move a signal that failed too often to the dead-letter queue, with why (the operator replays it)."""
    sqs().send_message(
        QueueUrl=get_settings().sync_dead_letter_queue_url,
        MessageBody=body,
        MessageGroupId=group_id,
        MessageDeduplicationId=message_id,
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000] or "unknown"}},
    )


def signal_sender() -> GroupedSender:
    return GroupedSender(LinkLookup(table()), SignalQueue(sqs(), get_settings().sync_queue_url), lane_changes())


def lane_changes() -> LaneChanges:
    return LaneChanges(table())


def link_partners(connection_id: str, pair: Pair, side: Side, ids: list[str]) -> dict[str, str]:
    """The record each linked record of these is linked to, read consistently."""
    return LinkLookup(table()).partners(connection_id, pair, side, ids, consistent=True)


def sweep_requests() -> SweepRequests:
    return SweepRequests(sqs(), get_settings().sweep_queue_url)


def webhook_ingest() -> WebhookIngest:
    return WebhookIngest(connections(), signal_sender())


def hubspot_client(tokens: TokenProvider, connection_id: str) -> HubSpotClient:
    settings = get_settings()
    return HubSpotClient(
        http(),
        budget=RateBudget(table(), connection_id, "hubspot", time_scale=settings.rate_time_scale),
        api_base=settings.hubspot_api_base,
        timeout=settings.http_timeout_seconds,
        tokens=lambda refused: tokens.access_token(connection_id, "hubspot", refused),
    )


def _active(connection_id: str) -> Connection | None:
    connection = connections().get(connection_id)
    if connection is None or connection.syncs_paused or not connection.realm_id:
        return None
    return connection


def _ports(
    connection: Connection, hubspot: HubSpotClient, qbo: QboClient, store: DynamoSyncStore | None = None
) -> SyncPorts:
    """The engine's adapters, with the connection's own field mappings."""
    cid = connection.connection_id
    store = store or DynamoSyncStore(table(), cid)
    configs = store.configs(MAPPED)
    mappings = {pair: config.field_mappings() for pair, config in configs.items()}
    lists = {pair: tuple(config.filters.list_ids) for pair, config in configs.items() if config.filters.list_ids}
    # A dry run keeps its own note of the app's properties: the ones it "made" were never sent.
    schema_key = f"{cid}:preview" if isinstance(store, PreviewStore) else cid
    tree = company_tree(hubspot, store)
    adapter = HubSpotAdapter(
        hubspot,
        schema_key=schema_key,
        mappings=mappings,
        list_filters=lists,
        tree=tree,
    )
    return SyncPorts(adapter, QboAdapter(qbo, mappings), store)


def _engine(connection: Connection, hubspot: HubSpotClient, qbo: QboClient) -> SyncEngine:
    ports = _ports(connection, hubspot, qbo)
    return SyncEngine(connection.connection_id, ports.hubspot, ports.qbo, ports.store, ports.hubspot.mappings)


def _clients(connection: Connection) -> tuple[HubSpotClient, QboClient]:
    tokens = token_provider()
    assert connection.realm_id is not None
    cid = connection.connection_id
    return hubspot_client(tokens, cid), qbo_client(tokens, cid, connection.realm_id)


def sync_engine(connection_id: str) -> SyncEngine | None:
    """The engine for one connection, or None when the connection is gone or paused."""
    connection = _active(connection_id)
    if connection is None:
        return None
    return _engine(connection, *_clients(connection))


def developer_client() -> DeveloperClient | None:
    """App-level HubSpot calls, when the operator gave the app id and developer key."""
    settings, app = get_settings(), secrets()
    if not app.hubspot_app_id or not app.hubspot_developer_api_key.get_secret_value():
        return None
    return DeveloperClient(
        http(),
        api_base=settings.hubspot_api_base,
        app_id=app.hubspot_app_id,
        api_key=app.hubspot_developer_api_key.get_secret_value(),
        timeout=settings.http_timeout_seconds,
    )


def prepare_payment_timeline() -> dict[str, str]:
    """The app's timeline event templates, payments' and sales receipts' (made on connect); empty without a
    developer key."""
    developer = developer_client()
    if developer is None:
        return {}
    templates = developer.ensure_timeline_templates()
    TimelineTemplates(table()).save(templates)
    return templates


def accounts(connection_id: str) -> AccountReader | None:
    """Reads of both accounts for one connection's pickers (None when gone or paused)."""
    connection = _active(connection_id)
    return None if connection is None else AccountReader(*_clients(connection))


def billing(connection_id: str) -> Billing | None:
    """Invoices, payments, deals and the workflow action for one connection (None when gone or paused)."""
    connection = _active(connection_id)
    if connection is None:
        return None
    hubspot, qbo = _clients(connection)
    engine = _engine(connection, hubspot, qbo)
    store = DynamoSyncStore(table(), connection_id)
    billing_store = BillingStore(table(), connection_id)
    customers = customer_pair(connection.customer_mode)
    invoices = InvoiceMirror(hubspot, qbo, store, billing_store, engine, schema_key=connection_id, customers=customers)
    timeline = PaymentTimeline(hubspot, TimelineTemplates(table()), developer_client())
    return Billing(
        connection_id=connection_id,
        hubspot=hubspot,
        store=billing_store,
        failures=store,
        invoices=invoices,
        payments=PaymentMirror(qbo, store, billing_store, invoices, timeline),
        action=CreateInvoiceAction(invoices),
        send=signal_sender().send,
    )


class WiredServices:
    """The services the signal routes need, built for each signal's connection."""

    def engine(self, connection_id: str) -> SyncEngine | None:
        return sync_engine(connection_id)

    def billing(self, connection_id: str) -> Billing | None:
        return billing(connection_id)

    def record_batch(self, signal: SyncSignal) -> Counter[str] | None:
        connection = _active(signal.connection_id)
        if connection is None:
            return None
        ports = _ports(connection, *_clients(connection))
        live = {} if signal.job_id else {one.record_id: one for one in records_of(signal)}
        return run_batch(signal, ports.hubspot, ports.qbo, ports.store, live=live)

    def live_batch(self, signals: list[SyncSignal], on_result: Callable[[SyncSignal, Result], None]) -> None:
        first = signals[0]
        connection = _active(first.connection_id)
        if connection is None:
            return
        ports = _ports(connection, *_clients(connection))
        live = {s.record_id: s for s in signals}
        batch = first.model_copy(update={"record_ids": list(live)})
        run_batch(
            batch,
            ports.hubspot,
            ports.qbo,
            ports.store,
            lambda record_id, result, _seen: on_result(live[record_id], result),
            live=live,
        )

    def add_progress(self, signal: SyncSignal, counts: Counter[str]) -> None:
        assert signal.job_id is not None
        JobRepository(table(), signal.connection_id).add(signal.pair, signal.job_id, dict(counts))

    def preview(self, signal: SyncSignal) -> Counter[str] | None:
        connection = _active(signal.connection_id)
        if connection is None or signal.job_id is None:
            return None
        cid, pair, job_id = connection.connection_id, signal.pair, signal.job_id
        jobs = JobRepository(table(), cid, PREVIEW_JOBS)
        if not signal.record_ids:
            planned = initial_sync(connection, jobs).queue(pair, job_id, Reason.PREVIEW)
            return Counter(planned=planned)
        captured = Captured()
        hubspot, qbo = _clients(connection)
        store = PreviewStore(table(), cid, DynamoSyncStore(table(), cid).config(pair))
        dry = _ports(
            connection,
            cast(HubSpotClient, DryRunHubSpot(hubspot, captured)),
            cast(QboClient, DryRunQbo(qbo, captured)),
            store,
        )
        rows = preview_batch(signal, dry.hubspot, dry.qbo, store)
        PreviewRepository(table(), cid).put(pair, job_id, rows)
        counts = Counter(done=len(rows))
        jobs.add(pair, job_id, dict(counts))
        return counts


def initial_sync(connection: Connection, jobs: JobRepository | None = None) -> InitialSync:
    """The first sync (or resync) of a connection's pairs; with `jobs`, of another kind of job (previews)."""
    tokens = token_provider()
    assert connection.realm_id is not None
    return InitialSync(
        connection.connection_id,
        hubspot_client(tokens, connection.connection_id),
        qbo_client(tokens, connection.connection_id, connection.realm_id),
        jobs or JobRepository(table(), connection.connection_id),
        signal_sender(),
    )


def enabled_pairs(connection_id: str, pairs: tuple[Pair, ...]) -> list[Pair]:
    store = DynamoSyncStore(table(), connection_id)
    return [pair for pair in pairs if store.settings(pair).enabled]


def recheck_company(connection: Connection) -> None:
    """Read the company's preferences again when the last look is a day old; save what they warn of."""
    assert connection.realm_id is not None
    client = qbo_client(token_provider(), connection.connection_id, connection.realm_id)
    checked = company.recheck(connection, client.preferences)
    if checked is not None:
        connections().save(checked)


def sweeper(connection: Connection) -> Sweeper:
    tokens = token_provider()
    assert connection.realm_id is not None
    return Sweeper(
        connection.connection_id,
        qbo_client(tokens, connection.connection_id, connection.realm_id),
        hubspot_client(tokens, connection.connection_id),
        CursorRepository(table(), connection.connection_id),
        signal_sender(),
        links=LinkLookup(table()),
        hubspot_invoices=SyncSettingsRepository(table(), connection.connection_id).get(Pair.INVOICES).hubspot_invoices,
        customers=customer_pair(connection.customer_mode),
    )


def settings_service(connection: Connection, session_id: str) -> SettingsService:
    cid = connection.connection_id

    def accounts() -> AccountReader:
        tokens = token_provider()
        return AccountReader(hubspot_client(tokens, cid), qbo_client(tokens, cid, connection.realm_id or ""))

    def start_job(pair: Pair, since: date | None) -> str:
        return initial_sync(connection).start(pair, since)

    return SettingsService(cid, table(), accounts, start_job, signal_sender().send, session_id=session_id)


def install_service(public_base: str) -> InstallService:
    settings, app = get_settings(), secrets()
    tokens = token_provider(public_base)
    key = signing_key()
    return InstallService(
        connections=connections(),
        states=StateRepository(table(), key),
        tokens=tokens,
        hubspot=hubspot_oauth(settings, app),
        intuit=intuit_oauth(settings, app),
        qbo_client=lambda cid, realm, token: consent_qbo_client(realm, token),
        sessions=Sessions(key, table()),
        signing_key=key,
        pending=PendingConsents(table()),
    )
