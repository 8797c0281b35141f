"""The QuickBooks Online emulator's HTTP surface: /v3/company/{realmId}/..., OAuth, webhooks, limits."""

import functools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox import signing
from sandbox.accounts import Accounts
from sandbox.clock import now_ms, parse_iso
from sandbox.http import ApiError, Emulator, ids_arg, json_response, read_json
from sandbox.limits import ConcurrencyCap, LimitSet
from sandbox.quickbooks import books
from sandbox.quickbooks import faults as qf
from sandbox.quickbooks import query as qbo_query
from sandbox.quickbooks.company import ENTITIES, Change, Company
from sandbox.quickbooks.oauth import IntuitOAuth
from sandbox.webhooks import WebhookDispatcher

PER_MINUTE = 500
PER_SECOND = 10
CONCURRENT = 10
BATCH_PER_MINUTE = 40
MAX_BATCH_ITEMS = 30
CDC_MAX_DAYS = 30
CDC_MAX_PER_ENTITY = 1000
RETRY_DELAYS = [10.0, 20.0, 30.0, 300.0, 1200.0, 7200.0, 14400.0, 21600.0]
SIGNED_IN_COOKIE = "qbo_realm"  # the sandbox's stand-in for the company a user picks when connecting
_LEGACY_OPERATION = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}
_PATH_ENTITY = {e.lower(): e for e in ENTITIES}
_THROTTLED_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse xmlns="http://schema.intuit.com/'
    'finance/v3" time="{time}"><Fault type="SERVICE"><Error code="3001" element=""><Message>message='
    "ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>The request limit was reached. "
    "{detail}</Detail></Error></Fault></IntuitResponse>"
)


@dataclass
class Realm:
    """One QuickBooks company the app is connected to, with its own limits (they are per realm)."""

    company: Company
    limits: LimitSet
    concurrency: ConcurrencyCap


def _entity(name: str) -> str:
    entity = _PATH_ENTITY.get(name.lower())
    if entity is None:
        raise qf.fault("Unsupported Operation", f"Operation on {name} is not supported", 500)
    return entity


class QuickBooksEmulator(Emulator):
    def __init__(
        self,
        *,
        realm_id: str,
        dev_token: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        webhook_url: str | None = None,
        verifier_token: str | None = None,
        legacy_webhooks: bool = False,
        time_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.realm_id = realm_id  # the primary company; others are added through /_sandbox/accounts
        self.verifier_token = verifier_token or "sandbox-verifier-token"
        self.legacy_webhooks = legacy_webhooks
        self.oauth = IntuitOAuth(client_id, client_secret, dev_token)
        # A sandbox company answers only at the sandbox API host: here, the production host, it refuses every
        # call (Intuit does not document how; 403 ApplicationAuthorizationFailed and 401 are both seen).
        self.sandbox_company = False
        self.sandbox_status = 403
        super().__init__(time_scale=time_scale, seed=seed)
        self.webhooks.url = self.initial_webhook_url = webhook_url
        self._request_ids: dict[str, tuple[int, Any]] = {}
        self._request_lock = threading.Lock()
        self.reset_state()

    def reset_state(self) -> None:
        self.realms: Accounts[str, Realm] = Accounts(self._new_realm, self.realm_id)
        self._request_ids = {}

    def _new_realm(self, realm_id: str) -> Realm:
        limits = LimitSet(clock=lambda: self.limits_clock())  # noqa: PLW0108 - looked up at each call: tests set it later
        limits.add("minute", PER_MINUTE, self.time.seconds(60))
        limits.add("second", PER_SECOND, self.time.seconds(1))
        limits.add("batch", BATCH_PER_MINUTE, self.time.seconds(60))
        company = Company(realm_id, functools.partial(self._emit_changes, realm_id))
        return Realm(company, limits, ConcurrencyCap(CONCURRENT))

    # -- the company a request works on --------------------------------------------------------------

    @property
    def accounts(self) -> Accounts[str, Realm]:
        return self.realms

    def api_account(self, request: Request) -> str | None:
        if request.path == "/connect/oauth2":
            return request.cookies.get(SIGNED_IN_COOKIE)
        if self._api_path(request):
            return request.path.split("/")[3]
        return None

    @property
    def company(self) -> Company:
        return self.realms.current.company

    @property
    def limits(self) -> LimitSet:
        return self.realms.current.limits

    @property
    def concurrency(self) -> ConcurrencyCap:
        return self.realms.current.concurrency

    # -- webhooks ----------------------------------------------------------------------------------

    def make_dispatcher(self) -> WebhookDispatcher:
        return WebhookDispatcher(
            render=self._render_webhook, faults=self.faults, time_scale=self.time, retry_delays=RETRY_DELAYS
        )

    def _emit_changes(self, realm_id: str, changes: list[Change]) -> None:
        events = []
        for change in changes:
            event: dict[str, Any] = {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": f"intuit.sandbox-{realm_id}",
                "type": f"qbo.{change.entity.lower()}.{change.operation}.v1",
                "datacontenttype": "application/json",
                "time": datetime.fromtimestamp(change.at_ms / 1000, UTC).isoformat().replace("+00:00", "Z"),
                "intuitentityid": change.entity_id,
                "intuitaccountid": realm_id,
                "data": {"deletedid": change.deleted_id} if change.deleted_id else {},
            }
            events.append(event)
        self.webhooks.emit(events)

    def _render_webhook(self, events: list[dict[str, Any]], attempt: int, url: str) -> tuple[bytes, dict[str, str]]:
        if self.legacy_webhooks:
            by_realm: dict[str, list[dict[str, Any]]] = {}
            for event in events:
                _, entity, operation, _ = event["type"].split(".")
                entry = {
                    "name": _entity(entity),
                    "id": event["intuitentityid"],
                    "operation": _LEGACY_OPERATION[operation],
                    "lastUpdated": event["time"],
                }
                if event["data"].get("deletedid"):
                    entry["deletedId"] = event["data"]["deletedid"]
                by_realm.setdefault(event["intuitaccountid"], []).append(entry)
            notifications = [
                {"realmId": realm, "dataChangeEvent": {"entities": entities}} for realm, entities in by_realm.items()
            ]
            body = json.dumps({"eventNotifications": notifications}).encode()
            content_type = "application/json"
        else:
            body = json.dumps(events).encode()
            content_type = "application/cloudevents+json"
        return body, {
            "Content-Type": content_type,
            "intuit-signature": signing.intuit(self.verifier_token, body),
            "User-Agent": "Intuit-Webhooks/1.0",
        }

    # -- errors, auth and limits -------------------------------------------------------------------

    def error(self, status: int, message: str, category: str) -> ApiError:
        kind = "SystemFault" if status >= 500 else "ValidationFault"
        return qf.fault(message, f"{message} ({category})", 10000 if status >= 500 else 4000, status=status, kind=kind)

    def throttled(self, window: str) -> ApiError:
        detail = {
            "batch": "Batch request limit (40 per minute) exceeded.",
            "concurrency": "Too many concurrent requests (10).",
        }.get(window, "Retry after 60 seconds.")
        return ApiError(429, _THROTTLED_XML.format(time=qf.qbo_time(), detail=detail), content_type="application/xml")

    def _api_path(self, request: Request) -> bool:
        return request.path.startswith("/v3/company/")

    @staticmethod
    def _unauthenticated(detail: str) -> ApiError:
        return ApiError(
            401,
            {
                "warnings": None,
                "intuitObject": None,
                "fault": {
                    "error": [
                        {
                            "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                            "detail": detail,
                            "code": "3200",
                            "element": None,
                        }
                    ],
                    "type": "AUTHENTICATION",
                },
                "report": None,
                "queryResponse": None,
                "batchItemResponse": [],
                "attachableResponse": [],
                "syncErrorResponse": None,
                "requestId": None,
                "time": now_ms(),
                "status": None,
                "cdcresponse": [],
            },
            headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'},
        )

    def admit(self, request: Request) -> str | None:
        if not self._api_path(request):
            return None
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not self.oauth.valid(token):
            raise self._unauthenticated("Token expired or invalid")
        realm = request.path.split("/")[3]
        granted = self.oauth.realm_of(token)
        if self.sandbox_company and self.sandbox_status == 401:  # the other answer seen from the production host
            raise self._unauthenticated(
                "This is a QuickBooks sandbox company: it answers only at the sandbox API host."
            )
        if realm not in self.realms or granted not in (None, realm) or self.sandbox_company:
            detail = (
                "This is a QuickBooks sandbox company: it answers only at the sandbox API host."
                if self.sandbox_company
                else f"The token is not authorized for company {realm}."
            )
            raise qf.fault(
                "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                detail,
                "003100",
                status=403,
                kind="SERVICE",
            )
        if not self.concurrency.enter():
            return "concurrency"
        windows = ["minute", "second"] + (["batch"] if request.path.endswith("/batch") else [])
        refused = self.limits.acquire(windows)
        if refused is not None:
            self.concurrency.leave()
        return refused

    def release(self, request: Request) -> None:
        if self._api_path(request):
            self.concurrency.leave()

    def stats(self) -> dict[str, Any]:
        return {"rate_limited": dict(self.limits.rejected), "concurrency_rejected": self.concurrency.rejected}

    # -- routes ------------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        company = "/v3/company/<realm>"
        routes: list[tuple[str, list[str], Callable[..., Response]]] = [
            ("/connect/oauth2", ["GET"], self.oauth_authorize),
            ("/oauth2/v1/tokens/bearer", ["POST"], self.oauth_token),
            ("/v2/oauth2/tokens/revoke", ["POST"], self.oauth_revoke),
            ("/.well-known/openid_configuration", ["GET"], self.oauth_discovery),
            (f"{company}/query", ["GET", "POST"], self.run_query),
            (f"{company}/batch", ["POST"], self.run_batch),
            (f"{company}/cdc", ["GET"], self.change_data_capture),
            (f"{company}/preferences", ["GET"], self.get_preferences),
            (f"{company}/preferences", ["POST"], self.update_preferences),
            (f"{company}/companyinfo/<info_id>", ["GET"], self.get_company_info),
            (f"{company}/<any(invoice, estimate, salesreceipt):entity>/<entity_id>/send", ["POST"], self.send_form),
            (f"{company}/<entity>/<entity_id>", ["GET"], self.read_entity),
            (f"{company}/<entity>", ["POST"], self.write_entity),
            ("/_sandbox/seed", ["POST"], self.admin_seed),
            ("/_sandbox/records/<entity>", ["GET"], self.admin_list),
            ("/_sandbox/records/<entity>", ["POST"], self.admin_create),
            ("/_sandbox/records/<entity>/merge", ["POST"], self.admin_merge),
            ("/_sandbox/records/<entity>/<entity_id>", ["PATCH"], self.admin_update),
            ("/_sandbox/records/<entity>/<entity_id>", ["DELETE"], self.admin_delete),
            ("/_sandbox/records/<entity>/<entity_id>/void", ["POST"], self.admin_void),
            ("/_sandbox/company", ["PUT"], self.admin_company),
            ("/_sandbox/oauth/expire", ["POST"], self.admin_expire_tokens),
        ]
        return [Rule(path, methods=methods, endpoint=handler) for path, methods, handler in routes]

    @staticmethod
    def envelope(entity: str, body: dict[str, Any]) -> Response:
        return json_response({entity: body, "time": qf.qbo_time()})

    # -- OAuth -------------------------------------------------------------------------------------

    def oauth_authorize(self, request: Request) -> Response:
        return redirect(self.oauth.authorize(dict(request.args), self.realms.key), code=302)

    def oauth_token(self, request: Request) -> Response:
        hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        return json_response(self.oauth.token(request.headers.get("Authorization", ""), dict(request.form), hard))

    def oauth_revoke(self, request: Request) -> Response:
        body = read_json(request) if request.is_json else dict(request.form)
        self.oauth.revoke(request.headers.get("Authorization", ""), str((body or {}).get("token", "")))
        return Response(status=200)

    def oauth_discovery(self, request: Request) -> Response:
        return json_response(self.oauth.discovery(request.host_url.rstrip("/")))

    # -- entities ----------------------------------------------------------------------------------

    def _idempotent(self, request: Request, work: Callable[[], Response]) -> Response:
        """A repeated `requestid` replays the first answer instead of doing the work again."""
        request_id = request.args.get("requestid")
        if not request_id:
            return work()
        if len(request_id) > 50:
            raise qf.fault("Invalid requestid", "requestid must be at most 50 characters", 4001)
        key = f"{request.path}?{request_id}"
        with self._request_lock:
            if key in self._request_ids:
                status, body = self._request_ids[key]
                return Response(body, status=status, content_type="application/json")
        response = work()
        if response.status_code < 500:
            with self._request_lock:
                self._request_ids.setdefault(key, (response.status_code, response.get_data(as_text=True)))
        return response

    def read_entity(self, request: Request, realm: str, entity: str, entity_id: str) -> Response:
        kind = _entity(entity)
        return self.envelope(kind, self.company.read(kind, entity_id))

    def write_entity(self, request: Request, realm: str, entity: str) -> Response:
        kind = _entity(entity)

        def work() -> Response:
            body = read_json(request)
            if not isinstance(body, dict):
                raise qf.fault(
                    "Request has invalid or unsupported property", "The request body must be an object", 2010
                )
            return self.envelope(kind, self._write(kind, body, request.args.get("operation")))

        return self._idempotent(request, work)

    def _write(self, kind: str, body: dict[str, Any], operation: str | None) -> dict[str, Any]:
        if operation == "delete":
            if kind == "Invoice":
                return self.company.delete_invoice(body)
            if kind == "Payment":
                return self.company.delete_payment(body)
            raise qf.fault("Unsupported Operation", f"Operation delete is not supported for {kind}", 500)
        if operation == "void":
            if kind == "Invoice":
                return self.company.void_invoice(body)
            if kind == "Payment":
                return self.company.delete_payment(body, void=True)
            raise qf.fault("Unsupported Operation", f"Operation void is not supported for {kind}", 500)
        if operation not in (None, "update", "create"):
            raise qf.fault("Unsupported Operation", f"Operation {operation} is not supported", 500)
        if body.get("Id"):
            return self.company.update(kind, body)
        return self.company.create(kind, body)

    def send_form(self, request: Request, realm: str, entity: str, entity_id: str) -> Response:
        kind = _entity(entity)
        return self._idempotent(
            request, lambda: self.envelope(kind, self.company.send(kind, entity_id, request.args.get("sendTo")))
        )

    def _company_record(self) -> dict[str, Any]:
        """The fields every company-wide record (Preferences, CompanyInfo) carries."""
        created = qf.meta_time(self.company.created_ms)
        return {
            "domain": "QBO",
            "sparse": False,
            "Id": "1",
            "SyncToken": "0",
            "MetaData": {"CreateTime": created, "LastUpdatedTime": created},
        }

    def get_preferences(self, request: Request, realm: str) -> Response:
        return self.envelope("Preferences", self._preferences())

    def _preferences(self) -> dict[str, Any]:
        return {
            "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": False},
            "SalesFormsPrefs": {
                "CustomTxnNumbers": self.company.custom_txn_numbers,
                "AllowDeposit": False,
                "DefaultTerms": {"value": "3"},
                "AutoApplyCredit": True,
            },
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": self.company.multicurrency,
                "HomeCurrency": {"value": self.company.region.home},
            },
            "TaxPrefs": {
                "UsingSalesTax": True,
                "PartnerTaxEnabled": self.company.region.automated,
                "TaxGroupCodeRef": {"value": self.company.region.default_code},
            },
            **self._company_record(),
        }

    def update_preferences(self, request: Request, realm: str) -> Response:
        body = read_json(request) or {}
        custom = (body.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers")
        if custom is not None:
            self.company.custom_txn_numbers = bool(custom)
        return self.envelope("Preferences", self._preferences())

    def get_company_info(self, request: Request, realm: str, info_id: str) -> Response:
        return self.envelope(
            "CompanyInfo",
            {
                "CompanyName": self.company.name,
                "LegalName": self.company.name,
                "Country": self.company.region.country,
                "CompanyAddr": {
                    "Id": "1",
                    "Line1": "2500 Garcia Ave",
                    "City": "Mountain View",
                    "CountrySubDivisionCode": "CA",
                    "PostalCode": "94043",
                    "Country": self.company.region.country,
                },
                "Email": {"Address": "owner@example.com"},
                "SupportedLanguages": "en",
                "DefaultTimeZone": self.company.region.time_zone,
                "FiscalYearStartMonth": "January",
                "NameValue": [
                    {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
                    {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
                ],
                **self._company_record(),
            },
        )

    # -- query, batch, CDC -------------------------------------------------------------------------

    def _query(self, text: str) -> dict[str, Any]:
        parsed = qbo_query.parse(text)
        if parsed.entity.lower() == "companyinfo":
            return {"CompanyInfo": []}
        entity = _PATH_ENTITY.get(parsed.entity.lower())
        if entity is None:
            raise qf.fault("Invalid query", f"QueryValidationError: Property {parsed.entity} not found", 4001)
        parsed.entity = entity
        computed = any(c.path.lower() in ("balance", "balancewithjobs") for c in parsed.conditions)
        with self.company.lock:
            records = self.company.all(entity) if computed else list(self.company.entities[entity].values())
            return qbo_query.run(parsed, records, lambda r: self.company.render(entity, r))

    def run_query(self, request: Request, realm: str) -> Response:
        text = request.args.get("query") if request.method == "GET" else request.get_data(as_text=True)
        if request.method == "POST" and request.form.get("query"):
            text = request.form["query"]
        if not text:
            raise qbo_query.parse_error("The query is empty")
        return json_response({"QueryResponse": self._query(text), "time": qf.qbo_time()})

    def run_batch(self, request: Request, realm: str) -> Response:
        def work() -> Response:
            body = read_json(request) or {}
            items = body.get("BatchItemRequest")
            if not isinstance(items, list) or not items:
                raise qf.required_missing("BatchItemRequest")
            if len(items) > MAX_BATCH_ITEMS:
                raise qf.fault(
                    "Batch size exceeded",
                    f"Batch request can have at most {MAX_BATCH_ITEMS} items; received {len(items)}",
                    4001,
                )
            return json_response(
                {"BatchItemResponse": [self._batch_item(item) for item in items], "time": qf.qbo_time()}
            )

        return self._idempotent(request, work)

    def _batch_item(self, item: dict[str, Any]) -> dict[str, Any]:
        bid = str(item.get("bId", ""))
        try:
            if "Query" in item:
                return {"bId": bid, "QueryResponse": self._query(str(item["Query"]))}
            operation = item.get("operation", "create")
            entity = next((k for k in item if k in ENTITIES), None)
            if entity is None:
                raise qf.fault("Unsupported Operation", "No entity in batch item", 4001)
            payload = item[entity]
            if operation == "create":
                payload = {k: v for k, v in payload.items() if k != "Id"}
            result = self._write(entity, payload, None if operation in ("create", "update") else operation)
            return {"bId": bid, entity: result}
        except ApiError as exc:
            fault_body = exc.body if isinstance(exc.body, dict) else {}
            return {
                "bId": bid,
                "Fault": fault_body.get("Fault", {"Error": [{"Message": "Error", "code": "0"}], "type": "SystemFault"}),
            }

    def change_data_capture(self, request: Request, realm: str) -> Response:
        names = [n.strip() for n in request.args.get("entities", "").split(",") if n.strip()]
        since_text = request.args.get("changedSince", "")
        if not names or not since_text:
            raise qf.required_missing("entities and changedSince")
        try:
            since = parse_iso(since_text)
        except ValueError as exc:
            raise qf.fault("Invalid Date", f"changedSince is not a date: {since_text}", 2060) from exc
        if since < datetime.now(UTC) - timedelta(days=CDC_MAX_DAYS):
            raise qf.fault(
                "Invalid Date", f"CDC with changedSince older than {CDC_MAX_DAYS} days is not supported", 4001
            )
        since_ms = int(since.timestamp() * 1000)
        responses = []
        for name in names:
            entity = _entity(name)
            changed = self.company.changed_since(entity, since_ms)[:CDC_MAX_PER_ENTITY]
            responses.append(
                {entity: changed, "startPosition": 1, "maxResults": len(changed), "totalCount": len(changed)}
                if changed
                else {}
            )
        return json_response({"CDCResponse": [{"QueryResponse": responses}], "time": qf.qbo_time()})

    # -- admin: a person using QuickBooks, and the operator of the sandbox --------------------------

    def admin_seed(self, request: Request) -> Response:
        """Create records without webhooks: {"Customer": [...], "Item": [...], "Invoice": [...], ...}."""
        body = read_json(request) or {}
        created: dict[str, list[str]] = {}
        enabled, self.webhooks.enabled = self.webhooks.enabled, False
        try:
            for entity in ("Vendor", "Employee"):
                for record in body.get(entity, []):
                    entity_id = self.company._next_id(entity)
                    self.company.entities[entity][entity_id] = {"Id": entity_id, **record}
            for entity in ("Customer", "Item", "Invoice", "Payment"):
                created[entity] = [self.company.create(entity, record)["Id"] for record in body.get(entity, [])]
        finally:
            self.webhooks.enabled = enabled
        return json_response({"created": created}, status=201)

    def admin_list(self, request: Request, entity: str) -> Response:
        kind = _entity(entity)
        return json_response({"results": self.company.all(kind, ids_arg(request))})

    def admin_create(self, request: Request, entity: str) -> Response:
        return json_response(self.company.create(_entity(entity), read_json(request) or {}), status=201)

    def admin_update(self, request: Request, entity: str, entity_id: str) -> Response:
        body = {**(read_json(request) or {}), "Id": entity_id}
        return json_response(self.company.update(_entity(entity), body, as_user=True))

    def admin_delete(self, request: Request, entity: str, entity_id: str) -> Response:
        kind = _entity(entity)
        if kind in ("Customer", "Item"):
            return json_response(self.company.update(kind, {"Id": entity_id, "Active": False}, as_user=True))
        return json_response(self._write(kind, {"Id": entity_id}, "delete"))

    def admin_void(self, request: Request, entity: str, entity_id: str) -> Response:
        return json_response(self._write(_entity(entity), {"Id": entity_id}, "void"))

    def admin_merge(self, request: Request, entity: str) -> Response:
        body = read_json(request) or {}
        return json_response(
            self.company.merge(_entity(entity), str(body.get("survivorId", "")), str(body.get("mergedId", "")))
        )

    def admin_company(self, request: Request) -> Response:
        body = read_json(request) or {}
        if "sandbox" in body:
            self.sandbox_company = bool(body["sandbox"])
            self.sandbox_status = int(body.get("sandbox_status", 403))
        if "CustomTxnNumbers" in body:
            self.company.custom_txn_numbers = bool(body["CustomTxnNumbers"])
        if "CompanyName" in body:
            self.company.name = str(body["CompanyName"])
        if "legacy_webhooks" in body:
            self.legacy_webhooks = bool(body["legacy_webhooks"])
        if "Country" in body or "Currencies" in body:  # a region preset, and the currencies besides its own
            region = books.REGIONS.get(str(body.get("Country") or self.company.region.country))
            if region is None:
                raise qf.business_rule(f"No preset for country {body['Country']} (one of {', '.join(books.REGIONS)})")
            self.company.set_books(region, [str(c) for c in body.get("Currencies") or []])
            if "CompanyName" not in body and "Country" in body:
                self.company.name = region.name
        return json_response(
            {
                "sandbox": self.sandbox_company,
                "CustomTxnNumbers": self.company.custom_txn_numbers,
                "CompanyName": self.company.name,
                "legacy_webhooks": self.legacy_webhooks,
                "Country": self.company.region.country,
                "Currencies": [self.company.region.home, *self.company.currencies],
            }
        )

    def admin_expire_tokens(self, request: Request) -> Response:
        return json_response({"expired": self.oauth.expire_access_tokens()})
