"""HubSpot emulator: CRM objects, batch, search, properties, associations, invoices — over real HTTP."""

from typing import Any

import pytest

from tests.conftest import Sandbox


def _contact(hubspot: Sandbox, **props: Any) -> dict[str, Any]:
    response = hubspot.api().post(f"{hubspot.url}/crm/v3/objects/contacts", json={"properties": props})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_contact_lifecycle_and_string_values(hubspot: Sandbox) -> None:
    api = hubspot.api()
    created = _contact(hubspot, email="ann@example.com", firstname="Ann")
    assert created["archived"] is False
    assert created["properties"]["hs_object_id"] == created["id"]
    url = f"{hubspot.url}/crm/v3/objects/contacts/{created['id']}"
    updated = api.patch(url, json={"properties": {"lastname": "Lee", "zip": 2108}})
    assert updated.status_code == 200
    read = api.get(url, params={"properties": "email,lastname,zip"}).json()
    assert read["properties"]["zip"] == "2108"  # every value comes back as a string
    assert read["properties"]["lastname"] == "Lee"
    assert read["updatedAt"] >= read["createdAt"]
    by_email = api.get(f"{hubspot.url}/crm/v3/objects/contacts/ANN@example.com", params={"idProperty": "email"})
    assert by_email.json()["id"] == created["id"]
    assert api.delete(url).status_code == 204
    missing = api.get(url)
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    archived = api.get(url, params={"archived": "true"}).json()
    assert archived["archived"] is True
    assert "archivedAt" in archived


def test_list_pages_with_after_and_repeated_properties(hubspot: Sandbox) -> None:
    for n in range(5):
        _contact(hubspot, email=f"p{n}@example.com", firstname=f"P{n}")
    api = hubspot.api()
    seen: list[str] = []
    after = None
    while True:
        params: list[tuple[str, Any]] = [("limit", 2), ("properties", "email"), ("properties", "firstname")]
        if after:
            params.append(("after", after))
        page = api.get(f"{hubspot.url}/crm/v3/objects/contacts", params=params).json()
        seen += [r["properties"]["email"] for r in page["results"]]
        assert all(set(r["properties"]) >= {"email", "firstname"} for r in page["results"])
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            break
    assert seen == [f"p{n}@example.com" for n in range(5)]


def test_validation_errors_in_hubspot_shape(hubspot: Sandbox) -> None:
    api = hubspot.api()
    _contact(hubspot, email="dup@example.com")
    conflict = api.post(f"{hubspot.url}/crm/v3/objects/contacts", json={"properties": {"email": "DUP@example.com"}})
    assert conflict.status_code == 409
    assert conflict.json()["category"] == "CONFLICT"
    assert "Existing ID" in conflict.json()["message"]
    unknown = api.post(f"{hubspot.url}/crm/v3/objects/contacts", json={"properties": {"favourite_colour": "x"}})
    assert unknown.status_code == 400
    assert unknown.json()["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in unknown.json()["message"]
    not_number = api.post(f"{hubspot.url}/crm/v3/objects/products", json={"properties": {"price": "cheap"}})
    assert not_number.status_code == 400
    assert "INVALID_FLOAT" in not_number.json()["message"]
    read_only = api.post(f"{hubspot.url}/crm/v3/objects/contacts", json={"properties": {"hs_object_id": "5"}})
    assert "READ_ONLY_VALUE" in read_only.json()["message"]
    bad_email = api.post(f"{hubspot.url}/crm/v3/objects/contacts", json={"properties": {"email": "not-an-email"}})
    assert "INVALID_EMAIL" in bad_email.json()["message"]
    bad_option = api.post(f"{hubspot.url}/crm/v3/objects/contacts", json={"properties": {"lifecyclestage": "royalty"}})
    assert "INVALID_OPTION" in bad_option.json()["message"]


def test_custom_unique_property_and_batch_upsert(hubspot: Sandbox) -> None:
    api = hubspot.api()
    group = api.post(
        f"{hubspot.url}/crm/v3/properties/contacts/groups", json={"name": "quickbooks", "label": "QuickBooks"}
    )
    assert group.status_code == 201
    prop = api.post(
        f"{hubspot.url}/crm/v3/properties/contacts",
        json={
            "name": "qbo_customer_id",
            "label": "QuickBooks customer id",
            "type": "string",
            "fieldType": "text",
            "groupName": "quickbooks",
            "hasUniqueValue": True,
        },
    )
    assert prop.status_code == 201
    assert prop.json()["hasUniqueValue"] is True
    again = api.post(
        f"{hubspot.url}/crm/v3/properties/contacts",
        json={
            "name": "qbo_customer_id",
            "label": "x",
            "type": "string",
            "fieldType": "text",
            "groupName": "quickbooks",
        },
    )
    assert again.status_code == 409
    listed = api.get(f"{hubspot.url}/crm/v3/properties/contacts").json()["results"]
    assert "qbo_customer_id" in {p["name"] for p in listed}
    upsert = f"{hubspot.url}/crm/v3/objects/contacts/batch/upsert"
    first = api.post(
        upsert,
        json={
            "inputs": [
                {
                    "idProperty": "qbo_customer_id",
                    "id": "42",
                    "properties": {"email": "u@example.com", "firstname": "U"},
                }
            ]
        },
    )
    assert first.status_code == 200
    assert first.json()["results"][0]["new"] is True
    second = api.post(
        upsert,
        json={"inputs": [{"idProperty": "qbo_customer_id", "id": "42", "properties": {"firstname": "Uma"}}]},
    )
    assert second.json()["results"][0]["new"] is False
    assert second.json()["results"][0]["id"] == first.json()["results"][0]["id"]
    clash = _contact(hubspot, email="v@example.com")
    duplicate = api.patch(
        f"{hubspot.url}/crm/v3/objects/contacts/{clash['id']}", json={"properties": {"qbo_customer_id": "42"}}
    )
    assert duplicate.status_code == 409
    api.patch(  # the first contact lets go of the value: it is free for another
        f"{hubspot.url}/crm/v3/objects/contacts/{first.json()['results'][0]['id']}",
        json={"properties": {"qbo_customer_id": ""}},
    )
    freed = api.patch(
        f"{hubspot.url}/crm/v3/objects/contacts/{clash['id']}", json={"properties": {"qbo_customer_id": "42"}}
    )
    assert freed.status_code == 200


def test_batch_create_read_update_archive(hubspot: Sandbox) -> None:
    api = hubspot.api()
    base = f"{hubspot.url}/crm/v3/objects/products/batch"
    created = api.post(
        f"{base}/create",
        json={
            "inputs": [{"properties": {"name": f"Item {n}", "price": n * 10, "hs_sku": f"SKU{n}"}} for n in range(3)]
        },
    )
    assert created.status_code == 201
    ids = [r["id"] for r in created.json()["results"]]
    read = api.post(
        f"{base}/read",
        json={"inputs": [{"id": i} for i in [*ids, "999999"]], "properties": ["name", "price"]},
    )
    assert read.status_code == 207
    assert read.json()["numErrors"] == 1
    assert read.json()["errors"][0]["context"]["ids"] == ["999999"]
    updated = api.post(
        f"{base}/update",
        json={
            "inputs": [
                {"id": ids[0], "properties": {"price": "11"}},
                {"id": "999999", "properties": {"price": "1"}},
            ]
        },
    )
    assert updated.status_code == 207
    assert updated.json()["results"][0]["properties"]["price"] == "11"
    assert api.post(f"{base}/archive", json={"inputs": [{"id": ids[1]}]}).status_code == 204
    too_many = api.post(f"{base}/create", json={"inputs": [{"properties": {"name": "x"}}] * 101})
    assert too_many.status_code == 400
    remaining = api.post(f"{base}/read", json={"inputs": [{"id": i} for i in ids]}).json()
    assert {r["id"] for r in remaining["results"]} == {ids[0], ids[2]}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"propertyName": "email", "operator": "EQ", "value": "B@EXAMPLE.COM"}], ["b"]),
        ([{"propertyName": "firstname", "operator": "NEQ", "value": "a"}], ["b", "c"]),
        ([{"propertyName": "zip", "operator": "IN", "values": ["10", "30"]}], ["a", "c"]),
        ([{"propertyName": "phone", "operator": "HAS_PROPERTY"}], ["a"]),
        ([{"propertyName": "phone", "operator": "NOT_HAS_PROPERTY"}], ["b", "c"]),
        ([{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "c"}], ["c"]),
        (
            [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}],
            ["a", "b", "c"],
        ),
    ],
)
def test_search_operators(hubspot: Sandbox, filters: list[dict[str, Any]], expected: list[str]) -> None:
    _contact(hubspot, email="a@example.com", firstname="a", zip="10", phone="1")
    _contact(hubspot, email="b@example.com", firstname="b", zip="20")
    _contact(hubspot, email="c@example.com", firstname="c", zip="30")
    result = (
        hubspot.api()
        .post(
            f"{hubspot.url}/crm/v3/objects/contacts/search",
            json={"filterGroups": [{"filters": filters}], "properties": ["firstname"]},
        )
        .json()
    )
    assert sorted(r["properties"]["firstname"] for r in result["results"]) == expected
    assert result["total"] == len(expected)


def test_search_numbers_dates_sorts_and_paging(hubspot: Sandbox) -> None:
    api = hubspot.api()
    for price in (5, 50, 500, 5000):
        api.post(
            f"{hubspot.url}/crm/v3/objects/products",
            json={"properties": {"name": f"p{price}", "price": price}},
        )
    search = f"{hubspot.url}/crm/v3/objects/products/search"
    ranged = api.post(
        search,
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "price", "operator": "GTE", "value": "50"},
                        {"propertyName": "price", "operator": "LT", "value": "5000"},
                    ]
                }
            ],
            "sorts": [{"propertyName": "price", "direction": "DESCENDING"}],
            "properties": ["price"],
        },
    ).json()
    assert [r["properties"]["price"] for r in ranged["results"]] == ["500", "50"]
    either = api.post(
        search,
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "price", "operator": "EQ", "value": "5"}]},
                {"filters": [{"propertyName": "price", "operator": "GT", "value": "1000"}]},
            ]
        },
    ).json()
    assert either["total"] == 2
    first = api.post(search, json={"limit": 3, "sorts": ["price"], "properties": ["price"]}).json()
    assert first["paging"]["next"]["after"] == "3"
    rest = api.post(search, json={"limit": 3, "after": "3", "sorts": ["price"], "properties": ["price"]}).json()
    assert [r["properties"]["price"] for r in rest["results"]] == ["5000"]
    cutoff = first["results"][0]["updatedAt"]
    recent = api.post(
        search,
        json={
            "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": cutoff}]}]
        },
    ).json()
    assert recent["total"] == 4


def test_search_limits(hubspot: Sandbox) -> None:
    api = hubspot.api()
    search = f"{hubspot.url}/crm/v3/objects/contacts/search"
    assert api.post(search, json={"limit": 201}).status_code == 400
    beyond = api.post(search, json={"limit": 100, "after": "9950"})
    assert beyond.status_code == 400
    assert "10000" in beyond.json()["message"]
    crowded = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}] * 7}]}
    assert api.post(search, json=crowded).status_code == 400
    unknown = {"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]}
    assert api.post(search, json=unknown).status_code == 400


def test_associations_both_directions(hubspot: Sandbox) -> None:
    api = hubspot.api()
    contact = _contact(hubspot, email="deal@example.com")
    deal = api.post(
        f"{hubspot.url}/crm/v3/objects/deals",
        json={
            "properties": {"dealname": "Big", "dealstage": "contractsent"},
            "associations": [
                {
                    "to": {"id": contact["id"]},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
                }
            ],
        },
    ).json()
    from_deal = api.get(f"{hubspot.url}/crm/v4/objects/deals/{deal['id']}/associations/contacts").json()
    assert from_deal["results"][0]["toObjectId"] in (contact["id"], int(contact["id"]))
    assert from_deal["results"][0]["associationTypes"][0]["typeId"] == 3
    from_contact = api.get(f"{hubspot.url}/crm/v4/objects/contacts/{contact['id']}/associations/deals").json()
    assert from_contact["results"][0]["associationTypes"][0]["typeId"] == 4
    item = api.post(
        f"{hubspot.url}/crm/v3/objects/line_items",
        json={"properties": {"name": "Widget", "quantity": 3, "price": "2.50"}},
    ).json()
    assert item["properties"]["amount"] == "7.5"
    put = api.put(f"{hubspot.url}/crm/v4/objects/deals/{deal['id']}/associations/default/line_items/{item['id']}")
    assert put.status_code == 200
    batch = api.post(
        f"{hubspot.url}/crm/v4/associations/deals/line_items/batch/read",
        json={"inputs": [{"id": deal["id"]}]},
    ).json()
    assert len(batch["results"][0]["to"]) == 1
    listed = api.get(f"{hubspot.url}/crm/v3/objects/deals/{deal['id']}", params={"associations": "contacts"}).json()
    assert listed["associations"]["contacts"]["results"][0]["id"] == contact["id"]
    assert hubspot.admin.associated("contacts", contact["id"], "deals") == [deal["id"]]
    assert (
        api.delete(f"{hubspot.url}/crm/v4/objects/deals/{deal['id']}/associations/contacts/{contact['id']}").status_code
        == 204
    )
    assert api.get(f"{hubspot.url}/crm/v4/objects/deals/{deal['id']}/associations/contacts").json()["results"] == []


def test_invoice_object_rules(hubspot: Sandbox) -> None:
    api = hubspot.api()
    invoices = f"{hubspot.url}/crm/v3/objects/invoices"
    assert api.post(invoices, json={"properties": {"hs_invoice_date": "2026-11-01"}}).status_code == 400
    draft = api.post(invoices, json={"properties": {"hs_currency": "USD", "hs_invoice_billable": False}})
    assert draft.status_code == 201
    invoice_id = draft.json()["id"]
    to_open = api.patch(f"{invoices}/{invoice_id}", json={"properties": {"hs_invoice_status": "open"}})
    assert to_open.status_code == 400
    contact = _contact(hubspot, email="payer@example.com")
    line = api.post(f"{hubspot.url}/crm/v3/objects/line_items", json={"properties": {"name": "x", "price": 1}}).json()
    for kind, other in (("contacts", contact["id"]), ("line_items", line["id"])):
        api.put(f"{hubspot.url}/crm/v4/objects/invoices/{invoice_id}/associations/default/{kind}/{other}")
    opened = api.patch(f"{invoices}/{invoice_id}", json={"properties": {"hs_invoice_status": "open"}})
    assert opened.status_code == 200
    paid = api.patch(f"{invoices}/{invoice_id}", json={"properties": {"hs_invoice_status": "paid"}})
    assert paid.status_code == 400
    by_type_id = api.get(f"{hubspot.url}/crm/v3/objects/0-53/{invoice_id}")
    assert by_type_id.status_code == 200


def test_merge_keeps_the_primary_and_redirects_the_merged_id(hubspot: Sandbox) -> None:
    api = hubspot.api()
    primary = _contact(hubspot, email="keep@example.com")
    merged = _contact(hubspot, email="gone@example.com", phone="123")
    result = api.post(
        f"{hubspot.url}/crm/v3/objects/contacts/merge",
        json={"primaryObjectId": primary["id"], "objectIdToMerge": merged["id"]},
    )
    assert result.status_code == 200
    assert result.json()["id"] == primary["id"]
    follow = api.get(f"{hubspot.url}/crm/v3/objects/contacts/{merged['id']}", params={"properties": "phone"})
    assert follow.json()["id"] == primary["id"]
    assert follow.json()["properties"]["phone"] == "123"


def test_properties_with_history_name_who_set_each_value_newest_first(hubspot: Sandbox) -> None:
    api = hubspot.api()
    created = _contact(hubspot, email="hist@example.com", firstname="One")
    url = f"{hubspot.url}/crm/v3/objects/contacts/{created['id']}"
    api.patch(url, json={"properties": {"firstname": "Two"}})
    api.patch(url, json={"properties": {"firstname": ""}})
    hubspot.admin.update("contacts", created["id"], {"firstname": "Three"})
    read = api.get(url, params={"properties": "firstname", "propertiesWithHistory": "firstname,fax"}).json()
    history = read["propertiesWithHistory"]
    assert list(history) == ["firstname"]  # never-set properties are left out
    assert [h["value"] for h in history["firstname"]] == ["Three", "", "Two", "One"]
    assert [h["sourceType"] for h in history["firstname"]] == ["CRM_UI", "INTEGRATION", "INTEGRATION", "INTEGRATION"]
    times = [h["timestamp"] for h in history["firstname"]]
    assert times == sorted(times, reverse=True)
    assert "propertiesWithHistory" not in api.get(url, params={"properties": "firstname"}).json()


def test_a_batch_read_gives_the_history_asked_for(hubspot: Sandbox) -> None:
    api = hubspot.api()
    one = _contact(hubspot, email="batch.hist1@example.com", firstname="A")
    two = _contact(hubspot, email="batch.hist2@example.com", firstname="B")
    api.patch(f"{hubspot.url}/crm/v3/objects/contacts/{one['id']}", json={"properties": {"firstname": "A2"}})
    url = f"{hubspot.url}/crm/v3/objects/contacts/batch/read"
    inputs = [{"id": one["id"]}, {"id": two["id"]}]
    read = api.post(url, json={"inputs": inputs, "properties": ["firstname"], "propertiesWithHistory": ["firstname"]})
    history = {r["id"]: [h["value"] for h in r["propertiesWithHistory"]["firstname"]] for r in read.json()["results"]}
    assert history == {one["id"]: ["A2", "A"], two["id"]: ["B"]}
    plain = api.post(url, json={"inputs": inputs, "properties": ["firstname"], "propertiesWithHistory": []})
    assert all("propertiesWithHistory" not in r for r in plain.json()["results"])


def test_lists_search_by_name_type_and_page(hubspot: Sandbox) -> None:
    api = hubspot.api()
    contact = hubspot.admin.create("contacts", {"email": "listed@example.com"})
    for name in ("Trade fair leads", "Newsletter", "Trade partners"):
        hubspot.admin.create_list(name, [contact["id"]] if name == "Newsletter" else [])
    hubspot.admin.create_list("Trade products", [], object_type_id="0-7")

    def search(**body: Any) -> dict[str, Any]:
        answer = api.post(f"{hubspot.url}/crm/v3/lists/search", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    everything = search(count=2)
    assert ([found["name"] for found in everything["lists"]], everything["hasMore"]) == (
        ["Trade fair leads", "Newsletter"],
        True,
    )
    rest = search(count=2, offset=everything["offset"])
    assert ([found["name"] for found in rest["lists"]], rest["hasMore"], rest["total"]) == (
        ["Trade partners", "Trade products"],
        False,
        4,
    )
    trade = search(query="TRADE", objectTypeId="0-1")
    assert [found["name"] for found in trade["lists"]] == ["Trade fair leads", "Trade partners"]
    (newsletter,) = search(query="news", additionalProperties=["hs_list_size"])["lists"]
    assert newsletter["additionalProperties"]["hs_list_size"] == "1"


def test_a_company_has_one_parent_company_and_never_sits_under_itself(hubspot: Sandbox) -> None:
    acme, site, job, other = (
        hubspot.admin.create("companies", {"name": n})["id"] for n in ("Acme", "Site", "Job", "X")
    )
    hubspot.admin.associate("companies", acme, "companies", site, type_id=13)  # Acme is Site's parent
    hubspot.admin.associate("companies", job, "companies", site, type_id=14)  # Job is Site's child
    listed = hubspot.api().get(f"{hubspot.url}/crm/v4/objects/companies/{site}/associations/companies").json()
    kinds = {str(r["toObjectId"]): sorted(t["typeId"] for t in r["associationTypes"]) for r in listed["results"]}
    assert kinds == {acme: [14], job: [13]}  # from Site: Acme is its parent (14), Job its child (13)
    second = hubspot.api().put(
        f"{hubspot.url}/crm/v4/objects/companies/{site}/associations/companies/{other}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 14}],
    )
    assert second.status_code == 400  # Site has a parent already
    cycle = hubspot.api().put(
        f"{hubspot.url}/crm/v4/objects/companies/{job}/associations/companies/{acme}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 13}],
    )
    assert cycle.status_code == 400  # Acme under its own grandchild
    assert "it is under it" in cycle.json()["message"]
