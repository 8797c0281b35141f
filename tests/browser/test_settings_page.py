"""The settings page in Debian's Chromium, driven by Playwright against devstack and both sandboxes: connect,
find every sync not set up, set contacts up through a preview and a choice between two matches, save and
sync and watch the first sync finish, turn contacts off and on, add a custom mapping and see it applied, read a
failing record's fix, delete a sync. Screenshots go to .artifacts/browser/."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright

from devstack.sandboxed import SandboxedProduct
from tests.support.product import connect_webhooks, customer_of, settle

pytestmark = [pytest.mark.browser, pytest.mark.devstack, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
SERIOUS = ("serious", "critical")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "browser"
# Chromium on a machine without outside network: no background connections, no sandbox as root.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


_console: list[str] = []  # what the pages logged in Chromium's console, for the policy check


@pytest.fixture(scope="module")
def page(product: SandboxedProduct, chromium: Browser) -> Iterator[Page]:
    connect_webhooks(product)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.on("console", lambda message: _console.append(message.text))
    page.goto(f"{product.devstack.gateway_url}/connect/hubspot")
    expect(page.get_by_role("heading", name="Connect these accounts?")).to_be_visible()
    _shot(page, "00-confirm-connect")
    page.get_by_role("button", name="Connect").click()
    page.wait_for_url(f"{product.devstack.gateway_url}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    yield page
    context.close()
    violations = [text for text in _console if "Content Security Policy" in text]
    assert violations == [], violations  # every page of the install and the settings works under its policy


def _shot(page: Page, name: str) -> None:
    """The page as it is now, at 1280 px and at a phone's 390 px; at neither may it scroll sideways."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wide = page.viewport_size or {"width": 1280, "height": 1000}
    for width, suffix in ((wide["width"], ""), (390, "-phone")):
        page.set_viewport_size({"width": width, "height": wide["height"]})
        page.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"), full_page=True)
        beyond = page.evaluate(
            """(width) => [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > width + 1)
                .map((e) => `${e.tagName}#${e.id}.${e.className}: ${Math.round(e.getBoundingClientRect().right)}`)
                .slice(0, 8)""",
            width,
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width, beyond)
    page.set_viewport_size(wide)


def test_the_page_shows_the_connection_and_a_card_per_sync(product: SandboxedProduct, page: Page) -> None:
    expect(page.locator("#connection")).to_contain_text("Sandbox Company")
    for pair in ("contacts", "products", "invoices", "payments"):
        expect(page.locator(f"#sync-{pair}")).to_contain_text("Not set up")
    expect(page.get_by_label("Sync on")).to_have_count(0)
    _shot(page, "01-connected-nothing-set-up")


def test_customers_are_people_or_businesses_chosen_before_either_is_set_up(page: Page) -> None:
    page.get_by_role("radio", name=re.compile("Businesses:")).check()
    expect(page.locator("#toast")).to_contain_text("now sync with HubSpot companies")
    expect(page.locator("#sync-companies")).to_contain_text("Not set up")
    expect(page.locator("#sync-contacts")).to_have_count(0)
    _shot(page, "01b-business-customers")
    _accessible(page)
    page.get_by_role("radio", name=re.compile("People:")).check()
    expect(page.locator("#sync-contacts")).to_contain_text("Not set up")
    expect(page.locator("#sync-companies")).to_have_count(0)


def _accessible(page: Page) -> None:
    """axe-core in the page finds nothing serious or critical (labels, names, contrast, structure)."""
    found = Axe().run(page).response["violations"]
    serious = [f"{v['id']} ({v['impact']}): {len(v['nodes'])} nodes" for v in found if v["impact"] in SERIOUS]
    assert serious == [], serious


def test_contacts_are_set_up_through_a_preview_and_a_choice_then_the_first_sync_runs(
    product: SandboxedProduct, page: Page
) -> None:
    contact = product.hubspot_admin.create("contacts", {"email": "twin@example.com", "firstname": "Tess"})
    for half in ("A", "B"):
        product.quickbooks_admin.create(
            "Customer", {"DisplayName": f"Tess {half}", "PrimaryEmailAddr": {"Address": "twin@example.com"}}
        )
    card = page.locator("#sync-contacts")
    card.get_by_role("button", name="Preview").click()
    expect(card).to_contain_text("need your choice", timeout=30_000)
    _shot(page, "02-preview")
    _accessible(page)
    card.get_by_label("Tess <twin@example.com> (HubSpot)").select_option(label="Link with Tess A <twin@example.com>")
    card.get_by_role("button", name="Apply choices").click()
    expect(page.locator("#toast")).to_contain_text("Choices saved")
    expect(card).to_contain_text("1 will link", timeout=30_000)
    asked: list[str] = []  # nothing changed since the preview: the page must not ask to start anyway

    def ask(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", ask)
    card.get_by_role("button", name="Save and sync").click()
    try:
        expect(page.locator("#toast")).to_contain_text("first sync started")
    finally:
        page.remove_listener("dialog", ask)
        assert asked == [], asked
    expect(card.locator(".job")).to_contain_text("First sync finished", timeout=60_000)
    _shot(page, "03-first-sync-finished")
    _accessible(page)
    assert customer_of(product, contact["id"])["DisplayName"] == "Tess A"
    for pair in ("products", "invoices", "payments"):
        other = page.locator(f"#sync-{pair}")
        if pair == "products":
            other.get_by_role("button", name="Preview").click()
            expect(other).to_contain_text("The first sync will do this", timeout=30_000)
        other.get_by_role("button", name="Save and sync").click()
        expect(page.locator(f"#sync-{pair}").get_by_label("Sync on")).to_be_checked(timeout=30_000)


def test_turning_contacts_off_and_on_runs_an_initial_sync_to_the_end(product: SandboxedProduct, page: Page) -> None:
    card = page.locator("#sync-contacts")
    card.get_by_label("Sync on").uncheck()
    card.get_by_label("When a record is deleted in HubSpot").select_option(label="Make the QuickBooks record inactive")
    card.get_by_label("When a record is made inactive in QuickBooks").select_option(label="Archive the HubSpot record")
    card.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_contain_text("Saved")
    saved = page.request.get(f"{product.devstack.gateway_url}/api/syncs/contacts").json()
    assert (saved["on_hubspot_delete"], saved["on_qbo_inactive"]) == ("deactivate", "archive")
    product.hubspot_admin.seed(
        {
            "contacts": [
                {"email": f"while.off.{i}@example.com", "firstname": "Off", "lastname": str(i)} for i in range(12)
            ]
        }
    )
    card = page.locator("#sync-contacts")
    expect(card.get_by_label("Sync on")).not_to_be_checked()
    card.get_by_label("Sync on").check()
    card.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_contain_text("initial sync started", timeout=30_000)
    expect(page.locator("#sync-contacts .job")).to_contain_text("First sync finished", timeout=60_000)
    expect(page.locator("#sync-contacts progress")).to_be_visible()
    _shot(page, "02-initial-sync-finished")
    emails = {
        str((c.get("PrimaryEmailAddr") or {}).get("Address")) for c in product.quickbooks_admin.records("Customer")
    }
    assert {f"while.off.{i}@example.com" for i in range(12)} <= emails


def test_a_custom_mapping_added_in_the_editor_reaches_quickbooks(product: SandboxedProduct, page: Page) -> None:
    expect(page.get_by_label("Object")).to_have_value("contacts")
    rows = page.locator("#mappings tbody tr")
    expect(rows.first).to_be_visible()
    count = rows.count()
    page.get_by_role("button", name="Add a mapping").click()
    page.get_by_label(f"HubSpot property, row {count + 1}").select_option("jobtitle")
    page.get_by_label(f"QuickBooks field, row {count + 1}").select_option("Title")
    page.get_by_label(f"Direction, row {count + 1}").select_option("hubspot_to_qbo")
    page.get_by_role("button", name="Save mappings").click()
    expect(page.locator("#mapping-result")).to_contain_text("Mappings saved", timeout=15_000)  # under load
    expect(page.get_by_role("button", name="Resync now to apply them to every record")).to_be_visible()
    _shot(page, "03-mapping-saved")
    contact = product.hubspot_admin.create(
        "contacts", {"email": "mapped.title@example.com", "firstname": "Mara", "lastname": "Mapped", "jobtitle": "Prof"}
    )
    settle(product)
    assert customer_of(product, contact["id"])["Title"] == "Prof"


def test_a_bad_mapping_is_refused_with_a_message_for_its_row(product: SandboxedProduct, page: Page) -> None:
    rows = page.locator("#mappings tbody tr")
    count = rows.count()
    page.get_by_role("button", name="Add a mapping").click()
    page.get_by_label(f"HubSpot property, row {count + 1}").select_option("website")
    page.get_by_label(f"QuickBooks field, row {count + 1}").select_option("Balance")
    page.get_by_role("button", name="Save mappings").click()
    expect(page.locator("#mapping-result .problem").first).to_contain_text("QuickBooks computes")
    _shot(page, "04-mapping-refused")


def test_a_failing_record_shows_its_fix_and_the_sync_can_be_deleted(product: SandboxedProduct, page: Page) -> None:
    product.hubspot_admin.create("contacts", {"firstname": "L" * 120, "email": "too.long@example.com"})
    product.hubspot_admin.create("products", {"name": "Browser widget", "price": "12"})
    settle(product)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    health = page.locator("#errors")
    expect(health).to_be_visible()
    expect(health.locator("td.fix").first).to_contain_text("Shorten")
    named = health.get_by_role("link", name=f"{'L' * 120} <too.long@example.com>")  # a name, not an id
    expect(named).to_have_attribute("href", re.compile(r"^https://app\.hubspot\.com/contacts/\d+/record/0-1/\d+$"))
    _shot(page, "05-sync-health")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#sync-products").get_by_role("button", name="Delete sync").click()
    expect(page.locator("#toast")).to_contain_text("deleted")
    expect(page.locator("#sync-products")).to_contain_text("Not set up")  # set up anew, through a preview
    _shot(page, "06-sync-deleted")


def test_a_record_a_filter_leaves_out_is_listed_with_why_and_can_be_included(
    product: SandboxedProduct, page: Page
) -> None:
    product.hubspot_admin.create_list("Trade fair 2026", [])
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    card = page.locator("#sync-contacts")
    # The filters are picked by name from what HubSpot holds: its lifecycle stages and its lists.
    lists = card.get_by_role("group", name="Only contacts in these HubSpot lists")
    expect(lists).to_contain_text("Trade fair 2026 (0)")
    stages = card.get_by_role("group", name="Only contacts in these lifecycle stages")
    expect(stages.get_by_label("Marketing Qualified Lead")).not_to_be_checked()
    stages.get_by_label("Customer", exact=True).check()
    card.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_contain_text("Saved")
    assert page.request.get(f"{product.devstack.gateway_url}/api/syncs/contacts").json()["filters"] == {
        "lifecycle_stages": ["customer"],
        "list_ids": [],
    }
    lead = product.hubspot_admin.create(
        "contacts", {"email": "left.out@example.com", "firstname": "Lou", "lastname": "Left", "lifecyclestage": "lead"}
    )
    settle(product)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
    expect(page.locator("#in-sync")).to_contain_text("in sync")
    left = page.locator("#excluded")
    expect(left.get_by_role("link", name="Lou Left <left.out@example.com>")).to_be_visible()
    expect(left).to_contain_text("contact in HubSpot")
    expect(left).to_contain_text("filters leave this record out")
    _shot(page, "07-left-out")
    _accessible(page)
    page.get_by_role("button", name="Include Lou Left <left.out@example.com>").click()
    expect(page.locator("#toast")).to_contain_text("Included")
    settle(product)
    assert customer_of(product, lead["id"])["GivenName"] == "Lou"


def test_a_uk_company_picks_the_actions_default_tax_code_and_custom_line_item_by_name(
    product: SandboxedProduct, page: Page
) -> None:
    quickbooks = product.quickbooks_admin
    quickbooks.set_company(Country="GB")
    try:
        income = {"Type": "Service", "IncomeAccountRef": {"value": "1"}}
        other = quickbooks.create("Item", {"Name": "Other charges", "UnitPrice": 0, **income})
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15_000)
        card = page.locator("#sync-invoices")
        tax = card.get_by_label("Workflow action: tax code for lines whose item has none")
        expect(tax.locator("option")).to_contain_text(["None", "20.0% S (Standard rated)"])
        tax.select_option(label="20.0% S (Standard rated)")
        card.get_by_label("Workflow action: QuickBooks item for line items not in the product library").select_option(
            label="Other charges"
        )
        _shot(page, "08-invoice-defaults")
        _accessible(page)
        card.locator("button.primary").click()
        expect(page.locator("#toast")).to_contain_text(re.compile("Saved|set up"))
        saved = page.request.get(f"{product.devstack.gateway_url}/api/syncs/invoices").json()["invoice_defaults"]
        assert saved == {"tax_code": "2", "custom_item": other["Id"]}
    finally:
        quickbooks.set_company(Country="US")
