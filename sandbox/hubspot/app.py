"""The HubSpot emulator's HTTP surface: the real paths, shapes, status codes and limits."""

import contextlib
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from werkzeug.routing import Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from sandbox import signing
from sandbox.accounts import Accounts
from sandbox.clock import iso_ms, now_ms
from sandbox.http import ApiError, Emulator, ids_arg, json_response, read_json
from sandbox.hubspot import scopes
from sandbox.hubspot.apps import Actions, Templates, Timeline
from sandbox.hubspot.crm import MAX_BATCH, Crm, Record, Source
from sandbox.hubspot.errors import hubspot_error
from sandbox.hubspot.lists import Lists
from sandbox.hubspot.oauth import OAuthServer
from sandbox.hubspot.schema import OBJECT_TYPES, object_type
from sandbox.hubspot.tax_rates import TaxRates
from sandbox.limits import LimitSet
from sandbox.webhooks import WebhookDispatcher

TEN_SECONDLY_LIMIT = 110
SEARCH_PER_SECOND = 5
RETRY_DELAYS = [1.0, 2.0, 4.0, 8.0, 16.0, 60.0, 300.0, 1800.0, 7200.0, 43200.0]
SIGNED_IN_COOKIE = "hubspot_portal"  # the sandbox's stand-in for the account a user picks when installing


@dataclass
class Portal:
    """What one HubSpot account holds for the app: records, lists, timeline events, its own rate limits."""

    crm: Crm
    lists: Lists
    timeline: Timeline
    limits: LimitSet
    tax_rates: TaxRates


def _otype(name: str) -> str:
    found = object_type(name)
    if found is None:
        raise hubspot_error(400, f"Unable to infer object type from: {name}", "VALIDATION_ERROR")
    return found.name


def _properties_arg(request: Request, name: str = "properties") -> list[str] | None:
    values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v]
    return values or None


def _batch_inputs(body: Any) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise hubspot_error(400, "Invalid input JSON: 'inputs' must be a list", "VALIDATION_ERROR")
    if len(inputs) > MAX_BATCH:
        raise hubspot_error(400, f"Batch size must be {MAX_BATCH} or less; received {len(inputs)}", "VALIDATION_ERROR")
    return inputs


def _batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: int, status: int = 200
) -> Response:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started),
        "completedAt": iso_ms(now_ms()),
    }
    if errors:
        body |= {"numErrors": len(errors), "errors": errors, "links": {}}
        status = 207
    return json_response(body, status=status)


def _standard_error(category: str, message: str, context: dict[str, list[str]]) -> dict[str, Any]:
    """One entry of a batch answer's `errors` (HubSpot's StandardError)."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": [],
        "links": {},
    }


def _batch_error(exc: ApiError, context: dict[str, Any]) -> dict[str, Any]:
    body = exc.body if isinstance(exc.body, dict) else {"message": str(exc.body)}
    return _standard_error(
        str(body.get("category", "VALIDATION_ERROR")),
        str(body.get("message", "")),
        {k: [str(v)] for k, v in context.items()},
    )


class HubSpotEmulator(Emulator):
    def __init__(
        self,
        *,
        portal_id: int,
        dev_token: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        app_id: int = 4_242_424,
        webhook_url: str | None = None,
        time_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.portal_id = portal_id  # the primary portal; others are added through /_sandbox/accounts
        self.app_id = app_id
        self.client_secret = client_secret or "sandbox-client-secret"
        self.oauth = OAuthServer(app_id, client_id, client_secret, dev_token)
        super().__init__(time_scale=time_scale, seed=seed)
        self.webhooks.url = self.initial_webhook_url = webhook_url
        self.reset_state()

    def reset_state(self) -> None:
        self.templates = Templates()
        self.actions = Actions()
        self.record_ids = itertools.count(101)
        self.portals: Accounts[int, Portal] = Accounts(self._new_portal, self.portal_id)

    def _new_portal(self, portal_id: int) -> Portal:
        limits = LimitSet(clock=lambda: self.limits_clock())  # noqa: PLW0108 - looked up at each call: tests set it later
        limits.add("TEN_SECONDLY_ROLLING", TEN_SECONDLY_LIMIT, self.time.seconds(10))
        limits.add("SECONDLY", SEARCH_PER_SECOND, self.time.seconds(1))
        crm = Crm(portal_id, self.app_id, self.webhooks.emit, ids=self.record_ids)
        return Portal(crm, Lists(self._live), Timeline(self.templates), limits, TaxRates())

    # -- the portal a request works on ---------------------------------------------------------------

    @property
    def accounts(self) -> Accounts[int, Portal]:
        return self.portals

    def account_key(self, raw: str) -> int:
        return int(raw)

    def api_account(self, request: Request) -> int | None:
        if request.path == "/oauth/authorize":
            chosen = request.cookies.get(SIGNED_IN_COOKIE)
            return int(chosen) if chosen and chosen.isdigit() else None
        return self.oauth.portal_of(self._token(request))

    @property
    def crm(self) -> Crm:
        return self.portals.current.crm

    @property
    def lists(self) -> Lists:
        return self.portals.current.lists

    @property
    def timeline(self) -> Timeline:
        return self.portals.current.timeline

    @property
    def limits(self) -> LimitSet:
        return self.portals.current.limits

    def make_dispatcher(self) -> WebhookDispatcher:
        return WebhookDispatcher(
            render=self._render_webhook, faults=self.faults, time_scale=self.time, retry_delays=RETRY_DELAYS
        )

    def _render_webhook(self, events: list[dict[str, Any]], attempt: int, url: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps([{**e, "attemptNumber": attempt} for e in events])
        timestamp = str(now_ms())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)",
            "X-HubSpot-Signature": signing.hubspot_v1(self.client_secret, body),
            "X-HubSpot-Signature-Version": "v1",
            "X-HubSpot-Signature-v3": signing.hubspot_v3(self.client_secret, "POST", url, body, timestamp),
            "X-HubSpot-Request-Timestamp": timestamp,
        }
        return body.encode("utf-8"), headers

    # -- errors, auth and limits -------------------------------------------------------------------

    def error(self, status: int, message: str, category: str) -> ApiError:
        return hubspot_error(status, message, category)

    def throttled(self, window: str) -> ApiError:
        policy = "SECONDLY" if window == "SECONDLY" else "TEN_SECONDLY_ROLLING"
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.time.seconds(10) * 1000)),
            "X-HubSpot-RateLimit-Max": str(TEN_SECONDLY_LIMIT),
            "X-HubSpot-RateLimit-Remaining": str(self.limits.remaining("TEN_SECONDLY_ROLLING")),
            "Retry-After": "1",
        }
        body = hubspot_error(429, f"You have reached your {policy.lower()} limit.", "RATE_LIMITS").body
        body |= {"errorType": "RATE_LIMIT", "policyName": policy}
        return ApiError(429, body, headers)

    def _token(self, request: Request) -> str:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token and request.args.get("hapikey") == self.oauth.dev_token:
            token = self.oauth.dev_token
        return token

    def admit(self, request: Request) -> str | None:
        if request.path.startswith("/oauth/"):
            return None
        token = self._token(request)
        if not token:
            raise hubspot_error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                "INVALID_AUTHENTICATION",
            )
        if not self.oauth.valid(token):
            raise hubspot_error(
                401,
                "The OAuth token used to make this call expired or is not valid.",
                "EXPIRED_AUTHENTICATION",
            )
        if token != self.oauth.dev_token:
            scopes.check(request, self.oauth.scopes_of(token))
        windows = ["TEN_SECONDLY_ROLLING"] + (["SECONDLY"] if request.path.endswith("/search") else [])
        return self.limits.acquire(windows)

    def stats(self) -> dict[str, Any]:
        return {"rate_limited": dict(self.limits.rejected)}

    # -- routes ------------------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        crm = "/crm/v3/objects/<otype>"
        v4 = "/crm/v4/objects/<from_type>/<from_id>/associations"
        routes = [
            ("/oauth/authorize", ["GET"], self.oauth_authorize),
            ("/oauth/v1/token", ["POST"], self.oauth_token),
            ("/oauth/v1/access-tokens/<token>", ["GET"], self.oauth_access_token_info),
            ("/oauth/v1/refresh-tokens/<token>", ["DELETE"], self.oauth_revoke),
            (crm, ["GET"], self.list_objects),
            (crm, ["POST"], self.create_object),
            (f"{crm}/search", ["POST"], self.search_objects),
            (f"{crm}/merge", ["POST"], self.merge_objects),
            (f"{crm}/batch/<op>", ["POST"], self.batch_objects),
            (f"{crm}/<object_id>", ["GET"], self.get_object),
            (f"{crm}/<object_id>", ["PATCH"], self.update_object),
            (f"{crm}/<object_id>", ["DELETE"], self.archive_object),
            ("/crm/v3/properties/<otype>/groups", ["GET"], self.list_groups),
            ("/crm/v3/properties/<otype>/groups", ["POST"], self.create_group),
            ("/crm/v3/properties/<otype>", ["GET"], self.list_properties),
            ("/crm/v3/properties/<otype>", ["POST"], self.create_property),
            ("/crm/v3/properties/<otype>/<name>", ["GET"], self.get_property),
            (f"{v4}/default/<to_type>/<to_id>", ["PUT"], self.associate_default),
            (f"{v4}/<to_type>/<to_id>", ["PUT"], self.associate_labelled),
            (f"{v4}/<to_type>/<to_id>", ["DELETE"], self.disassociate),
            (f"{v4}/<to_type>", ["GET"], self.list_associations),
            ("/crm/v4/associations/<from_type>/<to_type>/batch/<path:op>", ["POST"], self.batch_associations),
            ("/crm/v3/lists", ["POST"], self.create_list),
            ("/crm/v3/lists/search", ["POST"], self.search_lists),
            ("/crm/v3/lists/records/<type_id>/<record_id>/memberships", ["GET"], self.record_lists),
            ("/crm/v3/lists/<list_id>", ["GET"], self.get_list),
            ("/crm/v3/lists/<list_id>/memberships", ["GET"], self.list_members),
            ("/crm/v3/lists/<list_id>/memberships/<change>", ["PUT"], self.change_members),
            ("/tax-rates/v1/tax-rates", ["GET"], self.list_tax_rates),
            ("/tax-rates/v1/tax-rates/<rate_id>", ["GET"], self.get_tax_rate),
            ("/automation/v4/actions/callbacks/complete", ["POST"], self.complete_callbacks),
            ("/automation/v4/actions/callbacks/<callback_id>/complete", ["POST"], self.complete_callback),
            ("/automation/v4/actions/<int:app_id>", ["GET"], self.list_actions),
            ("/automation/v4/actions/<int:app_id>", ["POST"], self.create_action),
            ("/automation/v4/actions/<int:app_id>/<definition_id>", ["GET"], self.get_action),
            ("/automation/v4/actions/<int:app_id>/<definition_id>", ["PATCH"], self.update_action),
            ("/_sandbox/seed", ["POST"], self.admin_seed),
            ("/_sandbox/records/<otype>", ["GET"], self.admin_list),
            ("/_sandbox/records/<otype>", ["POST"], self.admin_create),
            ("/_sandbox/records/<otype>/merge", ["POST"], self.admin_merge),
            ("/_sandbox/records/<otype>/<object_id>", ["PATCH"], self.admin_update),
            ("/_sandbox/records/<otype>/<object_id>", ["DELETE"], self.admin_delete),
            ("/_sandbox/records/<otype>/<object_id>/restore", ["POST"], self.admin_restore),
            ("/_sandbox/associations", ["POST"], self.admin_associate),
            ("/_sandbox/associations", ["GET"], self.admin_associated),
            ("/_sandbox/associations", ["DELETE"], self.admin_disassociate),
            ("/_sandbox/lists", ["POST"], self.admin_list_create),
            ("/_sandbox/lists/<list_id>/<change>", ["PUT"], self.change_members),
            ("/_sandbox/tax-rates", ["POST"], self.admin_tax_rate),
            ("/_sandbox/properties/<otype>", ["POST"], self.create_property),
            ("/_sandbox/timeline", ["GET"], self.admin_timeline),
            ("/_sandbox/callbacks", ["GET"], self.admin_callbacks),
            ("/_sandbox/actions/<definition_id>/run", ["POST"], self.admin_run_action),
            ("/_sandbox/actions/<definition_id>/options", ["POST"], self.admin_action_options),
            ("/_sandbox/oauth/expire", ["POST"], self.admin_expire_tokens),
        ]
        for prefix in ("/crm/v3/timeline", "/integrators/timeline/v3"):
            routes += [
                (f"{prefix}/<int:app_id>/event-templates", ["GET"], self.list_templates),
                (f"{prefix}/<int:app_id>/event-templates", ["POST"], self.create_template),
                (f"{prefix}/events", ["POST"], self.create_event),
                (f"{prefix}/events/<template_id>/<event_id>", ["GET"], self.get_event),
            ]
        return [Rule(path, methods=methods, endpoint=handler) for path, methods, handler in routes]

    @property
    def api_source(self) -> Source:
        return Source.integration(self.app_id)

    # -- OAuth -------------------------------------------------------------------------------------

    def oauth_authorize(self, request: Request) -> Response:
        return redirect(self.oauth.authorize(dict(request.args), self.portals.key), code=302)

    def oauth_token(self, request: Request) -> Response:
        form = {**request.args, **request.form}
        return json_response(self.oauth.token(form))

    def oauth_access_token_info(self, request: Request, token: str) -> Response:
        return json_response(self.oauth.info(token))

    def oauth_revoke(self, request: Request, token: str) -> Response:
        if not self.oauth.revoke_refresh(token):
            raise hubspot_error(404, "refresh token not found", "OBJECT_NOT_FOUND")
        return Response(status=204)

    # -- lists -------------------------------------------------------------------------------------

    def _live(self, type_id: str, record_id: int) -> bool:
        kind = object_type(type_id)
        record = self.crm.records.get(kind.name, {}).get(record_id) if kind else None
        return record is not None and not record.archived

    def create_list(self, request: Request) -> Response:
        return json_response({"list": self.lists.create(read_json(request) or {}).to_json()})

    def get_list(self, request: Request, list_id: str) -> Response:
        return json_response({"list": self.lists.get(list_id).to_json()})

    def list_members(self, request: Request, list_id: str) -> Response:
        limit = int(request.args.get("limit", 100))
        return json_response(self.lists.members(list_id, request.args.get("after"), limit))

    def change_members(self, request: Request, list_id: str, change: str) -> Response:
        if change not in ("add", "remove"):
            raise hubspot_error(404, f"No route for memberships/{change}.", "NOT_FOUND")
        body = read_json(request)
        if not isinstance(body, list):
            raise hubspot_error(400, "The body must be an array of record ids.", "VALIDATION_ERROR")
        return json_response(self.lists.change(list_id, body, add=change == "add"))

    def list_tax_rates(self, request: Request) -> Response:
        active = request.args.get("active")
        limit = min(int(request.args.get("limit", 100)), 100)
        rates = self.portals.current.tax_rates
        return json_response(rates.page(None if active is None else active == "true", request.args.get("after"), limit))

    def get_tax_rate(self, request: Request, rate_id: str) -> Response:
        return json_response(self.portals.current.tax_rates.get(rate_id))

    def admin_tax_rate(self, request: Request) -> Response:
        body = read_json(request) or {}
        rate = self.portals.current.tax_rates.add(
            str(body.get("name", "")), float(body.get("percentageRate", 0)), str(body.get("label", ""))
        )
        return json_response(rate, status=201)

    def search_lists(self, request: Request) -> Response:
        return json_response(self.lists.search(read_json(request) or {}))

    def record_lists(self, request: Request, type_id: str, record_id: str) -> Response:
        return json_response(self.lists.of_record(type_id, record_id))

    # -- objects -----------------------------------------------------------------------------------

    def list_objects(self, request: Request, otype: str) -> Response:
        kind = _otype(otype)
        limit = min(int(request.args.get("limit", 10)), 100)
        archived = request.args.get("archived", "false") == "true"
        records, after = self.crm.page(kind, limit, request.args.get("after"), archived)
        names = _properties_arg(request)
        body: dict[str, Any] = {"results": [self._with_associations(r, request, names) for r in records]}
        if after:
            query = urlencode({"after": after, "limit": limit})
            body["paging"] = {"next": {"after": after, "link": f"{request.base_url}?{query}"}}
        return json_response(body)

    def _with_associations(self, record: Record, request: Request, names: list[str] | None) -> dict[str, Any]:
        body = record.to_json(names, history=_properties_arg(request, "propertiesWithHistory") or ())
        wanted = [a for raw in request.args.getlist("associations") for a in raw.split(",") if a]
        if wanted:
            body["associations"] = {}
            for other in wanted:
                other_type = _otype(other)
                found = self.crm.associated(record.object_type, record.id, other_type)
                if found:
                    body["associations"][other_type] = {
                        "results": [
                            {"id": str(oid), "type": f"{record.object_type[:-1]}_to_{other_type[:-1]}"}
                            for oid, _ in found
                        ]
                    }
        return body

    def get_object(self, request: Request, otype: str, object_id: str) -> Response:
        kind = _otype(otype)
        archived = request.args.get("archived", "false") == "true"
        record = self.crm.get(kind, object_id, request.args.get("idProperty"), archived=archived)
        return json_response(self._with_associations(record, request, _properties_arg(request)))

    def create_object(self, request: Request, otype: str) -> Response:
        body = read_json(request) or {}
        record = self.crm.create(
            _otype(otype), body.get("properties") or {}, self.api_source, body.get("associations") or []
        )
        return json_response(record.to_json(list(body.get("properties") or {}), with_defaults=True), status=201)

    def update_object(self, request: Request, otype: str, object_id: str) -> Response:
        body = read_json(request) or {}
        record = self.crm.update(
            _otype(otype),
            object_id,
            body.get("properties") or {},
            self.api_source,
            id_property=request.args.get("idProperty"),
        )
        return json_response(record.to_json(list(body.get("properties") or {}), with_defaults=True))

    def archive_object(self, request: Request, otype: str, object_id: str) -> Response:
        self.crm.archive(_otype(otype), object_id, self.api_source)
        return Response(status=204)

    def merge_objects(self, request: Request, otype: str) -> Response:
        body = read_json(request) or {}
        record = self.crm.merge(
            _otype(otype),
            str(body.get("primaryObjectId", "")),
            str(body.get("objectIdToMerge", "")),
            self.api_source,
        )
        return json_response(record.to_json())

    def search_objects(self, request: Request, otype: str) -> Response:
        return json_response(self.crm.search(_otype(otype), read_json(request) or {}))

    def batch_objects(self, request: Request, otype: str, op: str) -> Response:
        kind = _otype(otype)
        body = read_json(request) or {}
        inputs = _batch_inputs(body)
        started = now_ms()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        if op == "archive":
            for item in inputs:
                with contextlib.suppress(ApiError):  # HubSpot answers 204 whether or not each id existed
                    self.crm.archive(kind, str(item.get("id", "")), self.api_source)
            return Response(status=204)
        if op == "read":
            names = body.get("properties") or None
            history = body.get("propertiesWithHistory") or ()
            missing = []
            for item in inputs:
                try:
                    record = self.crm.get(kind, str(item.get("id", "")), body.get("idProperty"))
                    results.append(record.to_json(names, history=history))
                except ApiError:
                    missing.append(str(item.get("id", "")))
            if missing:
                errors.append(
                    _standard_error(
                        "OBJECT_NOT_FOUND",
                        f"Could not get some {kind} objects, they may be deleted or not exist.",
                        {"ids": missing},
                    )
                )
            return _batch_response(results, errors, started)
        handlers = {
            "create": self._batch_create_one,
            "update": self._batch_update_one,
            "upsert": self._batch_upsert_one,
        }
        if op not in handlers:
            raise hubspot_error(404, f"Unknown batch operation {op}", "OBJECT_NOT_FOUND")
        for item in inputs:
            try:
                results.append(handlers[op](kind, item))
            except ApiError as exc:
                errors.append(_batch_error(exc, {"id": item.get("id", "")} if "id" in item else {}))
        return _batch_response(results, errors, started, status=201 if op == "create" else 200)

    def _batch_create_one(self, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        props = item.get("properties") or {}
        return self.crm.create(kind, props, self.api_source, item.get("associations") or []).to_json(list(props))

    def _batch_update_one(self, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        props = item.get("properties") or {}
        record = self.crm.update(
            kind, str(item.get("id", "")), props, self.api_source, id_property=item.get("idProperty")
        )
        return record.to_json(list(props))

    def _batch_upsert_one(self, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        id_property = item.get("idProperty")
        key = str(item.get("id", ""))
        definition = self.crm.properties.get(kind, id_property or "")
        if definition is None or not definition.unique:
            raise hubspot_error(
                400, f"idProperty {id_property!r} must be a property with unique values", "VALIDATION_ERROR"
            )
        props = item.get("properties") or {}
        with self.crm.lock:
            try:
                record = self.crm.update(kind, key, props, self.api_source, id_property=id_property)
                created = False
            except ApiError as exc:
                if exc.status != 404:
                    raise
                record = self.crm.create(kind, {**props, str(id_property): key}, self.api_source)
                created = True
        return record.to_json(list(props)) | {"new": created}

    # -- properties --------------------------------------------------------------------------------

    def list_properties(self, request: Request, otype: str) -> Response:
        kind = _otype(otype)
        return json_response({"results": [d.to_json() for d in self.crm.properties.defs[kind].values()]})

    def get_property(self, request: Request, otype: str, name: str) -> Response:
        definition = self.crm.properties.get(_otype(otype), name)
        if definition is None:
            raise hubspot_error(404, f"Unable to find property {name}", "OBJECT_NOT_FOUND")
        return json_response(definition.to_json())

    def create_property(self, request: Request, otype: str) -> Response:
        definition = self.crm.properties.create(_otype(otype), read_json(request) or {})
        return json_response(definition.to_json(), status=201)

    def list_groups(self, request: Request, otype: str) -> Response:
        return json_response({"results": list(self.crm.properties.groups[_otype(otype)].values())})

    def create_group(self, request: Request, otype: str) -> Response:
        return json_response(self.crm.properties.create_group(_otype(otype), read_json(request) or {}), status=201)

    # -- associations v4 ---------------------------------------------------------------------------

    def associate_default(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        source, target = _otype(from_type), _otype(to_type)
        links = self.crm.associate(source, from_id, target, to_id, changed_by=self.api_source)
        started = now_ms()
        results = [
            {
                "from": {"id": from_id},
                "to": {"id": to_id},
                "associationSpec": {"associationCategory": link.category, "associationTypeId": link.type_id},
            }
            for link in links[:1]
        ]
        return _batch_response(results, [], started)

    def associate_labelled(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        types = read_json(request)
        if not isinstance(types, list) or not types:
            raise hubspot_error(400, "Body must be a list of association types", "VALIDATION_ERROR")
        source, target = _otype(from_type), _otype(to_type)
        links = self.crm.associate(source, from_id, target, to_id, types, changed_by=self.api_source)
        return json_response(
            {
                "fromObjectTypeId": OBJECT_TYPES[source].type_id,
                "fromObjectId": from_id,
                "toObjectTypeId": OBJECT_TYPES[target].type_id,
                "toObjectId": to_id,
                "labels": [label for link in links if (label := link.to_json().get("label"))],
            },
            status=201,
        )

    def disassociate(self, request: Request, from_type: str, from_id: str, to_type: str, to_id: str) -> Response:
        self.crm.disassociate(_otype(from_type), from_id, _otype(to_type), to_id, changed_by=self.api_source)
        return Response(status=204)

    def _associations_of(self, from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        record = self.crm.get(from_type, from_id)
        return [
            {"toObjectId": str(oid), "associationTypes": [link.to_json() for link in links]}
            for oid, links in self.crm.associated(from_type, record.id, to_type)
        ]

    def list_associations(self, request: Request, from_type: str, from_id: str, to_type: str) -> Response:
        return json_response({"results": self._associations_of(_otype(from_type), from_id, _otype(to_type))})

    def batch_associations(self, request: Request, from_type: str, to_type: str, op: str) -> Response:
        source, target = _otype(from_type), _otype(to_type)
        inputs = _batch_inputs(read_json(request) or {})
        started = now_ms()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in inputs:
            from_id = str((item.get("from") or {}).get("id", item.get("id", "")))
            try:
                if op == "read":
                    found = self._associations_of(source, from_id, target)
                    results.append({"from": {"id": from_id}, "to": found})
                elif op in ("create", "associate/default"):
                    to_id = str(item["to"]["id"])
                    types = item.get("types") if op == "create" else None
                    links = self.crm.associate(source, from_id, target, to_id, types, changed_by=self.api_source)
                    results.append(
                        {
                            "fromObjectTypeId": OBJECT_TYPES[source].type_id,
                            "fromObjectId": from_id,
                            "toObjectTypeId": OBJECT_TYPES[target].type_id,
                            "toObjectId": to_id,
                            "labels": [label for link in links if (label := link.to_json().get("label"))],
                        }
                        if op == "create"
                        else {
                            "from": {"id": from_id},
                            "to": {"id": to_id},
                            "associationSpec": {
                                "associationCategory": links[0].category,
                                "associationTypeId": links[0].type_id,
                            },
                        }
                    )
                elif op == "archive":
                    for to in item.get("to", []):
                        self.crm.disassociate(source, from_id, target, str(to.get("id", "")), self.api_source)
                else:
                    raise hubspot_error(404, f"Unknown batch operation {op}", "OBJECT_NOT_FOUND")
            except ApiError as exc:
                errors.append(_batch_error(exc, {"fromId": from_id}))
        if op == "archive":
            return Response(status=204)
        return _batch_response(results, errors, started, status=201 if op == "create" else 200)

    # -- timeline ----------------------------------------------------------------------------------

    def _check_app(self, app_id: int) -> None:
        if app_id != self.app_id:
            raise hubspot_error(403, f"App {app_id} is not installed in this portal", "MISSING_SCOPES")

    def list_templates(self, request: Request, app_id: int) -> Response:
        self._check_app(app_id)
        return json_response({"results": list(self.templates.by_id.values())})

    def create_template(self, request: Request, app_id: int) -> Response:
        self._check_app(app_id)
        return json_response(self.templates.create(read_json(request) or {}), status=201)

    def _exists(self, kind: str, object_id: str) -> bool:
        try:
            self.crm.get(_otype(kind), object_id)
        except ApiError:
            return False
        return True

    def create_event(self, request: Request) -> Response:
        return json_response(self.timeline.create_event(read_json(request) or {}, self._exists), status=201)

    def get_event(self, request: Request, template_id: str, event_id: str) -> Response:
        event = self.timeline.events.get((template_id, event_id))
        if event is None:
            raise hubspot_error(404, "Event not found", "OBJECT_NOT_FOUND")
        return json_response(event)

    # -- workflow actions --------------------------------------------------------------------------

    def list_actions(self, request: Request, app_id: int) -> Response:
        self._check_app(app_id)
        return json_response({"results": list(self.actions.definitions.values())})

    def create_action(self, request: Request, app_id: int) -> Response:
        self._check_app(app_id)
        return json_response(self.actions.create(read_json(request) or {}), status=201)

    def get_action(self, request: Request, app_id: int, definition_id: str) -> Response:
        self._check_app(app_id)
        return json_response(self.actions.get(definition_id))

    def update_action(self, request: Request, app_id: int, definition_id: str) -> Response:
        self._check_app(app_id)
        return json_response(self.actions.update(definition_id, read_json(request) or {}))

    def complete_callback(self, request: Request, callback_id: str) -> Response:
        self.actions.complete(callback_id, read_json(request) or {})
        return Response(status=204)

    def complete_callbacks(self, request: Request) -> Response:
        for item in _batch_inputs(read_json(request) or {}):
            self.actions.complete(str(item.get("callbackId", "")), item)
        return Response(status=204)

    # -- admin: a person using HubSpot, and the operator of the sandbox -----------------------------

    def admin_seed(self, request: Request) -> Response:
        """Create records as the portal's user, without webhooks.

        Body: {"contacts": [{props} | {"properties": {...}, "associations": [{"type", "id"}]}], ...}.
        """
        body = read_json(request) or {}
        created: dict[str, list[str]] = {}
        enabled, self.webhooks.enabled = self.webhooks.enabled, False
        try:
            for kind, items in body.items():
                otype = _otype(kind)
                created[otype] = []
                for item in items:
                    wrapped = "properties" in item
                    props = item["properties"] if wrapped else item
                    record = self.crm.create(otype, props, Source.user(), system=True)
                    for link in item.get("associations", []) if wrapped else []:
                        self.crm.associate(otype, str(record.id), _otype(link["type"]), str(link["id"]))
                    created[otype].append(str(record.id))
        finally:
            self.webhooks.enabled = enabled
        return json_response({"created": created}, status=201)

    def admin_list(self, request: Request, otype: str) -> Response:
        kind = _otype(otype)
        include = request.args.get("archived", "exclude")
        wanted = ids_arg(request)
        with self.crm.lock:
            held = self.crm.records[kind]
            keys = [int(i) for i in wanted or () if i.isdigit()]
            chosen = held.values() if wanted is None else [held[k] for k in keys if k in held]
            records = [r for r in chosen if include == "include" or r.archived == (include == "only")]
        return json_response({"results": [r.to_json(list(r.properties)) for r in records]})

    def admin_create(self, request: Request, otype: str) -> Response:
        body = read_json(request) or {}
        record = self.crm.create(_otype(otype), body.get("properties") or {}, Source.user())
        return json_response(record.to_json(list(record.properties)), status=201)

    def admin_update(self, request: Request, otype: str, object_id: str) -> Response:
        body = read_json(request) or {}
        record = self.crm.update(_otype(otype), object_id, body.get("properties") or {}, Source.user())
        return json_response(record.to_json(list(record.properties)))

    def admin_delete(self, request: Request, otype: str, object_id: str) -> Response:
        self.crm.archive(_otype(otype), object_id, Source.user())
        return Response(status=204)

    def admin_restore(self, request: Request, otype: str, object_id: str) -> Response:
        record = self.crm.restore(_otype(otype), object_id, Source.user())
        return json_response(record.to_json(list(record.properties)))

    def admin_merge(self, request: Request, otype: str) -> Response:
        body = read_json(request) or {}
        record = self.crm.merge(
            _otype(otype),
            str(body.get("primaryObjectId", "")),
            str(body.get("objectIdToMerge", "")),
            Source.user(),
        )
        return json_response(record.to_json(list(record.properties)))

    def admin_associate(self, request: Request) -> Response:
        body = read_json(request) or {}
        types = (
            [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": int(body["type"])}]
            if "type" in body
            else None
        )
        self.crm.associate(
            _otype(body["from_type"]), str(body["from_id"]), _otype(body["to_type"]), str(body["to_id"]), types
        )
        return json_response({"associated": True}, status=201)

    def admin_associated(self, request: Request) -> Response:
        """Ids of the `to_type` records associated with one record (`from_type`, `from_id`); of one association
        type only when `type` is given (a company's parent: 14)."""
        args = request.args
        found = self.crm.associated(
            _otype(args.get("from_type", "")), int(args.get("from_id", 0)), _otype(args.get("to_type", ""))
        )
        wanted = int(args["type"]) if args.get("type") else None
        return json_response(
            {
                "results": [
                    str(other_id)
                    for other_id, kinds in found
                    if wanted is None or any(k.type_id == wanted for k in kinds)
                ]
            }
        )

    def admin_disassociate(self, request: Request) -> Response:
        """Remove every association between two records, as a person does in HubSpot."""
        body = read_json(request) or {}
        self.crm.disassociate(
            _otype(body["from_type"]), str(body["from_id"]), _otype(body["to_type"]), str(body["to_id"])
        )
        return Response(status=204)

    def admin_list_create(self, request: Request) -> Response:
        body = read_json(request) or {}
        hs_list = self.lists.create({"name": body.get("name"), "objectTypeId": body.get("objectTypeId", "0-1")})
        return json_response({"list": hs_list.to_json()}, status=201)

    def admin_timeline(self, request: Request) -> Response:
        kind = _otype(request.args.get("objectType", "deals"))
        return json_response({"results": self.timeline.for_object(kind, request.args.get("objectId", ""))})

    def admin_callbacks(self, request: Request) -> Response:
        return json_response({"results": list(self.actions.completions)})

    def admin_run_action(self, request: Request, definition_id: str) -> Response:
        """Run a workflow action as HubSpot would: POST to its actionUrl signed v3, with v2 alongside."""
        definition = self.actions.get(definition_id)
        body = read_json(request) or {}
        payload = {
            "callbackId": body.get("callbackId") or f"ap-{self.portals.key}-{now_ms()}-1-0",
            "origin": self._action_origin(definition),
            "context": {"source": "WORKFLOWS", "workflowId": int(body.get("workflowId", 1))},
            "object": {"objectId": int(body["objectId"]), "objectType": body.get("objectType", "DEAL")},
            "fields": body.get("inputFields", {}),
            "inputFields": body.get("inputFields", {}),
        }
        return self._signed_post(definition["actionUrl"], payload, {"callbackId": payload["callbackId"]})

    def admin_action_options(self, request: Request, definition_id: str) -> Response:
        """Fill an input field's dropdown as HubSpot's workflow editor does: POST to the field's optionsUrl,
        signed like the action."""
        definition = self.actions.get(definition_id)
        body = read_json(request) or {}
        name = str(body.get("inputFieldName", ""))
        field = next((f for f in definition["inputFields"] if f["typeDefinition"].get("name") == name), None)
        url = (field or {}).get("typeDefinition", {}).get("optionsUrl")
        if not url:
            raise hubspot_error(400, f"Input field {name} has no optionsUrl", "VALIDATION_ERROR")
        payload = {
            "origin": self._action_origin(definition),
            "inputFieldName": name,
            "inputFields": body.get("inputFields", {}),
            "fetchOptions": {"q": body.get("q", ""), "after": body.get("after", "")},
            "objectTypeId": body.get("objectTypeId", "0-3"),
        }
        return self._signed_post(url, payload, {"inputFieldName": name})

    def _action_origin(self, definition: dict[str, Any]) -> dict[str, int]:
        return {
            "portalId": self.portals.key,
            "actionDefinitionId": int(definition["id"]),
            "actionDefinitionVersion": int(definition["revisionId"]),
        }

    def _signed_post(self, url: str, payload: dict[str, Any], about: dict[str, Any]) -> Response:
        """POST to the app as HubSpot does (signed v3, v2 alongside); the app's answer, status and time."""
        raw = json.dumps(payload)
        timestamp = str(now_ms())
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-Version": "v2",
            "X-HubSpot-Signature": signing.hubspot_v2(self.client_secret, "POST", url, raw),
            "X-HubSpot-Signature-v3": signing.hubspot_v3(self.client_secret, "POST", url, raw, timestamp),
            "X-HubSpot-Request-Timestamp": timestamp,
        }
        started = time.monotonic()
        try:
            answer = requests.post(url, data=raw, headers=headers, timeout=20)
        except requests.RequestException as exc:
            return json_response({**about, "error": type(exc).__name__}, status=502)
        try:
            answer_body: Any = answer.json()
        except ValueError:
            answer_body = answer.text
        return json_response(
            {
                **about,
                "status": answer.status_code,
                "response": answer_body,
                "ms": round((time.monotonic() - started) * 1000, 1),
            }
        )

    def admin_expire_tokens(self, request: Request) -> Response:
        return json_response({"expired": self.oauth.expire_access_tokens()})


def build(
    portal_id: int,
    dev_token: str,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    webhook_url: str | None = None,
    time_scale: float = 1.0,
    seed: int = 0,
) -> HubSpotEmulator:
    return HubSpotEmulator(
        portal_id=portal_id,
        dev_token=dev_token,
        client_id=client_id,
        client_secret=client_secret,
        webhook_url=webhook_url,
        time_scale=time_scale,
        seed=seed,
    )
