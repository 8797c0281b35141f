"""hubbooks' HubSpot client over real HTTP to the sandbox: which requests it sends again after a passing failure."""

import pytest
import requests

from hubbooks.errors import UnavailableError
from hubbooks.hubspot.client import HubSpotClient
from tests.conftest import DEV_TOKEN, Sandbox


def _client(hubspot: Sandbox) -> HubSpotClient:
    return HubSpotClient(requests.Session(), api_base=hubspot.url, tokens=lambda _: DEV_TOKEN, timeout=5)


def test_a_property_definition_applied_but_answered_500_is_sent_again_and_taken_as_made(hubspot: Sandbox) -> None:
    hubspot.admin.add_fault("applied_500", count=1, method="POST", path="^/crm/v3/properties/contacts$")
    definition = {"name": "made_once", "label": "Made once", "type": "string", "fieldType": "text"}
    hubspot.admin.clear_calls()
    _client(hubspot).create_property("contacts", {**definition, "groupName": "contactinformation"})
    assert _client(hubspot).property("contacts", "made_once") is not None
    posts = [c["status"] for c in hubspot.admin.calls() if c["method"] == "POST" and c["path"].endswith("/contacts")]
    assert posts == [500, 409]  # applied but answered 500, sent again, and the 409 taken as "made"


def test_a_record_create_answered_500_is_not_sent_again(hubspot: Sandbox) -> None:
    hubspot.admin.add_fault("applied_500", count=1, method="POST", path="^/crm/v3/objects/contacts$")
    with pytest.raises(UnavailableError):
        _client(hubspot).create("contacts", {"email": "once@example.com"}, [])
    assert [r["properties"]["email"] for r in hubspot.admin.records("contacts")] == ["once@example.com"]
