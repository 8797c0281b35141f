"""What the settings API reads from both accounts for a person: how many records changed since a moment (is
a preview still what the first sync will do?), the names of records by id (health lists names, not ids), and
the lists and lifecycle stages the filters pick from."""

import math
from datetime import UTC, datetime
from typing import Any

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping.pairs import spec
from hubbooks.models.signals import Pair, Side
from hubbooks.quickbooks.client import QboClient
from hubbooks.sync.adapters import QboAdapter
from hubbooks.sync.models import Record
from hubbooks.sync.sentences import label
from hubbooks.sync.sweep import HUBSPOT_PAIRS

NAME_PROPERTIES = {
    Pair.CONTACTS: ("firstname", "lastname", "email"),
    Pair.COMPANIES: ("name", "domain"),
    Pair.PRODUCTS: ("name", "hs_sku"),
}
NAMED = tuple(NAME_PROPERTIES)


class AccountReader:
    def __init__(self, hubspot: HubSpotClient, qbo: QboClient) -> None:
        self.hubspot, self.qbo = hubspot, qbo

    def changed_since(self, pair: Pair, since: float) -> dict[str, int]:
        """How many of the pair's records each side changed at or after `since` (epoch seconds): two calls."""
        object_type, modified = HUBSPOT_PAIRS[pair]
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": modified, "operator": "GTE", "value": str(int(since * 1000))}]}
            ],
            "properties": [modified],
            "limit": 1,
        }
        in_hubspot = int(self.hubspot.search_page(object_type, body).get("total", 0))
        # QuickBooks keeps whole seconds: a record changed in the second `since` falls in was read after it.
        moment = datetime.fromtimestamp(math.floor(since) + 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        in_quickbooks = self.qbo.count(
            f"select count(*) from {spec(pair).entity} "  # noqa: S608 - the entity is ours, the time is formatted
            f"where MetaData.LastUpdatedTime >= '{moment}' and Active in (true, false)"
        )
        return {Side.HUBSPOT.value: in_hubspot, Side.QUICKBOOKS.value: in_quickbooks}

    def names(self, pair: Pair, side: Side, record_ids: list[str]) -> dict[str, str]:
        """Each record's name as a person knows it (records gone from the account are left out)."""
        if pair not in NAME_PROPERTIES or not record_ids:
            return {}
        if side is Side.QUICKBOOKS:
            found = QboAdapter(self.qbo).get_many(pair, record_ids)
            return {i: label(pair, r) for i, r in found.items() if r is not None}
        bodies = self.hubspot.batch_read(spec(pair).hubspot_object, record_ids, list(NAME_PROPERTIES[pair]))
        return {
            str(b["id"]): label(pair, Record(Side.HUBSPOT, str(b["id"]), dict(b.get("properties") or {}), 0.0))
            for b in bodies
        }

    def invoice_choices(self) -> dict[str, list[dict[str, Any]]]:
        """What the invoice settings pick from: tax codes and items, as below."""
        return {"tax_codes": self.tax_codes(), "items": self.items()}

    def tax_codes(self) -> list[dict[str, str]]:
        """Active tax codes a line can take (none in a US company, whose lines are taxable or not)."""
        return [
            {"value": str(c["Id"]), "label": f"{c['Name']} ({c.get('Description') or c['Name']})"}
            for c in self.qbo.query("select * from TaxCode where Active = true")
            if str(c["Id"]).isdigit() and not c.get("TaxGroup")
        ]

    def items(self) -> list[dict[str, str]]:
        """Active items that sell (not bundles or categories), by name."""
        items = [
            {"value": str(i["Id"]), "label": str(i["Name"])}
            for i in self.qbo.query_all("select * from Item where Active = true")
            if i.get("Type") in ("Service", "NonInventory", "Inventory")
        ]
        return sorted(items, key=lambda i: i["label"].lower())

    def terms(self) -> list[dict[str, str]]:
        return [
            {"value": str(t["Id"]), "label": str(t["Name"])}
            for t in self.qbo.query("select * from Term where Active = true")
        ]

    def action_options(self, field: str, query: str = "") -> list[dict[str, str]] | None:
        """A workflow action's dropdown, from QuickBooks: terms, tax codes or items (those whose name holds
        `query`); None for a field without one."""
        readers = {"terms": self.terms, "tax_code": self.tax_codes, "custom_item": self.items}
        if field not in readers:
            return None
        wanted = query.strip().lower()
        return [option for option in readers[field]() if wanted in option["label"].lower()]

    def filter_choices(self, pair: Pair) -> dict[str, list[dict[str, Any]]]:
        """What the pair's settings pick from: HubSpot's lifecycle stages and its lists of the pair's records;
        for invoices, QuickBooks' tax codes and the items custom lines can be billed as."""
        if pair is Pair.INVOICES:
            return self.invoice_choices()
        if pair is not Pair.CONTACTS:
            return {"lifecycle_stages": [], "lists": []}
        stage = self.hubspot.property("contacts", "lifecyclestage") or {}
        stages = [
            {"value": str(o["value"]), "label": str(o.get("label") or o["value"])}
            for o in sorted(stage.get("options", []), key=lambda o: o.get("displayOrder", 0))
            if not o.get("hidden")
        ]
        lists = [
            {
                "id": str(found["listId"]),
                "name": str(found.get("name", "")),
                "size": int((found.get("additionalProperties") or {}).get("hs_list_size", 0)),
            }
            for found in self.hubspot.lists(spec(pair).object_type_id)
        ]
        return {"lifecycle_stages": stages, "lists": sorted(lists, key=lambda found: found["name"].lower())}
