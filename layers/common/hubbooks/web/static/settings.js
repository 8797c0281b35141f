"use strict";
// The settings page: everything it shows and changes goes through /api (same origin, session cookie).

const LABELS = {
  contacts: "Contacts ⇔ customers",
  companies: "Companies ⇔ customers",
  products: "Products ⇔ products and services",
  invoices: "QuickBooks invoices → HubSpot",
  payments: "QuickBooks payments → HubSpot timelines",
};
const TWO_WAY = ["contacts", "companies", "products"];
const MODES = {
  people: "People: each HubSpot contact is a QuickBooks customer",
  business: "Businesses: each HubSpot company is a customer, its child companies sub-customers",
};
const DIRECTIONS = { both: "Both ways", hubspot_to_qbo: "HubSpot → QuickBooks", qbo_to_hubspot: "QuickBooks → HubSpot" };
const ON_HUBSPOT_DELETE = { unlink: "Keep the QuickBooks record, stop syncing it", deactivate: "Make the QuickBooks record inactive" };
const ON_QBO_INACTIVE = { mark_inactive: "Keep the HubSpot record, marked inactive", archive: "Archive the HubSpot record" };
const POLICIES = { most_recent_wins: "Most recent change wins", hubspot_wins: "HubSpot wins", qbo_wins: "QuickBooks wins" };
const ROW_KINDS = {
  link: "will link",
  create_in_quickbooks: "will be created in QuickBooks",
  create_in_hubspot: "will be created in HubSpot",
  ambiguous: "need your choice (several matches)",
  excluded: "left out",
  fail: "would fail",
  in_step: "already in step",
  update: "will be updated",
};
const state = { syncs: {}, fields: {}, previews: {}, choices: {}, filterChoices: {}, portal: "", polling: null };
// Where a person opens a record in each app, and what each app calls it.
const RECORD_PAGES = {
  hs: {
    contacts: (id) => `https://app.hubspot.com/contacts/${state.portal}/record/0-1/${id}`,
    companies: (id) => `https://app.hubspot.com/contacts/${state.portal}/record/0-2/${id}`,
    products: (id) => `https://app.hubspot.com/contacts/${state.portal}/record/0-7/${id}`,
  },
  qbo: {
    contacts: (id) => `https://app.qbo.intuit.com/app/customerdetail?nameId=${id}`,
    companies: (id) => `https://app.qbo.intuit.com/app/customerdetail?nameId=${id}`,
    products: () => "https://app.qbo.intuit.com/app/items",
    invoices: (id) => `https://app.qbo.intuit.com/app/invoice?txnId=${id}`,
    payments: (id) => `https://app.qbo.intuit.com/app/recvpayment?txnId=${id}`,
  },
};
const NOUNS = {
  hs: { contacts: "contact", companies: "company", products: "product", invoices: "invoice", payments: "payment" },
  qbo: { contacts: "customer", companies: "customer", products: "product or service", invoices: "invoice", payments: "payment" },
};

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || `${response.status}`);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function options(select, choices, chosen) {
  // An object of value -> label, or [value, label] pairs where the order matters (numeric keys would sort first).
  for (const [value, label] of Array.isArray(choices) ? choices : Object.entries(choices)) {
    select.append(el("option", { value, text: label, selected: value === chosen }));
  }
  return select;
}

function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  setTimeout(() => { if (box.textContent === message) box.textContent = ""; }, 4000);
}

const records = (n) => (n === 1 ? "1 record" : `${n} records`);

// A record as a person knows it: its name (or what it is and its id), linked to it in its app.
function recordCell(pair, side, id, name) {
  const app = side === "hs" ? "HubSpot" : "QuickBooks";
  const noun = (NOUNS[side] || {})[pair] || "record";
  const shown = name || `${noun.charAt(0).toUpperCase()}${noun.slice(1)} ${id}`;
  const page = (RECORD_PAGES[side] || {})[pair];
  return el("td", { class: "record" },
    page ? el("a", { href: page(id), target: "_blank", rel: "noopener", text: shown }) : shown,
    el("br"), el("span", { class: "muted", text: `${noun} in ${app}` }));
}

// Checkboxes to pick from what the account holds, with a search box when there are many; none ticked: all.
function picker(id, legend, choices, chosen) {
  const known = new Set(choices.map((c) => c.value));
  const all = [...choices, ...chosen.filter((v) => !known.has(v)).map((v) => ({ value: v, label: `${v} (no longer in HubSpot)` }))];
  const items = all.map((choice) => {
    const box = el("input", { type: "checkbox", id: `${id}-${choice.value}`, name: id, value: choice.value, checked: chosen.includes(choice.value) });
    return el("li", {}, box, el("label", { for: box.id, text: choice.label }));
  });
  const search = el("input", { type: "search", id: `${id}-search`, "aria-label": `Search: ${legend}`, placeholder: "Search" });
  search.addEventListener("input", () => {
    const wanted = search.value.trim().toLowerCase();
    for (const item of items) item.hidden = wanted !== "" && !item.textContent.toLowerCase().includes(wanted);
  });
  const fieldset = el("fieldset", { class: "picker", id },
    el("legend", { text: legend }),
    all.length > 8 ? search : "",
    all.length ? el("ul", {}, ...items) : el("p", { class: "muted", text: "None in HubSpot yet." }));
  fieldset.values = () => [...fieldset.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  return fieldset;
}

async function loadConnection() {
  const c = await api("GET", "/api/connection");
  state.portal = String(c.portal_id);
  const list = document.getElementById("connection");
  list.replaceChildren();
  for (const [term, value] of [
    ["HubSpot account", c.portal_id],
    ["QuickBooks company", `${c.company_name || "-"} (${c.realm_id || "not connected"})`],
    ["Status", c.status.replace("_", " ")],
  ]) list.append(el("dt", { text: term }), el("dd", { text: String(value) }));
  const warnings = document.getElementById("warnings");
  warnings.replaceChildren(...c.warnings.map((w) => el("li", { role: "alert", text: w.message })));
  if (c.status_reason) warnings.append(el("li", { role: "alert", text: c.status_reason }));
  document.getElementById("disconnect").href = `/connections/${c.connection_id}/disconnect`;
  showMode(c.customer_mode);
}

function showMode(mode) {
  const choices = Object.entries(MODES).map(([value, text]) => el("label", { class: "choice" },
    el("input", { type: "radio", name: "customer-mode", value, checked: value === mode, onchange: () => chooseMode(value, mode) }),
    ` ${text}`));
  document.getElementById("customer-mode").replaceChildren(
    el("legend", { text: "QuickBooks customers are" }), ...choices);
  const editing = document.getElementById("mapping-pair");
  const customers = mode === "business" ? "companies" : "contacts";
  if (["contacts", "companies"].includes(editing.value) && editing.value !== customers) {
    editing.value = customers;  // the mapping editor opens on the customers the connection syncs
    editing.dispatchEvent(new Event("change"));
  }
}

async function chooseMode(mode, was) {
  try {
    await api("PUT", "/api/connection/customer-mode", { mode });
    showMode(mode);
    for (const pair of ["contacts", "companies"]) delete state.syncs[pair];
    toast(`QuickBooks customers now sync with HubSpot ${mode === "business" ? "companies" : "contacts"}.`);
    await loadSyncs();
  } catch (error) {
    showMode(was);
    toast(error.message);
  }
}

function finishing(job) {
  if (job.status === "finished" || !job.estimated_finish) return "";
  const seconds = Math.max(0, Math.round(job.estimated_finish - Date.now() / 1000));
  const at = new Date(job.estimated_finish * 1000).toLocaleTimeString();
  return ` · about ${seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`} left (done by ${at})`;
}

function progressOf(job, what = "First sync") {
  if (!job) return el("p", { class: "muted", text: `No ${what.toLowerCase()} has run yet.` });
  const label = job.status === "finished"
    ? `${what} finished: ${job.done} of ${job.total}` + (job.created === undefined ? "" : ` (${job.created} created, ${job.linked} linked, ${job.failed} failed)`)
    : `${what}: ${job.done} of ${job.total}${finishing(job)}`;
  return el("div", {},
    el("progress", { max: String(Math.max(job.total, 1)), value: String(job.done), "aria-label": label }),
    el("p", { class: "muted job", text: label }));
}

// -- the first day: a pair not set up is previewed, reviewed, then saved and synced ----------------------

function choiceFor(pair, row) {
  const id = `${pair}-choice-${row.side}-${row.record_id}`;
  const key = `${row.side}:${row.record_id}`;
  const chosen = state.choices[pair][key] || "";
  const select = el("select", { id, name: "choice" });
  select.append(el("option", { value: "", text: "Decide later", selected: chosen === "" }));
  select.append(el("option", { value: "skip", text: "Leave it out", selected: chosen === "skip" }));
  for (const candidate of row.candidates || []) {
    const [otherId, name] = candidate.split("\t");
    const value = `link:${otherId}`;
    select.append(el("option", { value, text: `Link with ${name || otherId}`, selected: chosen === value }));
  }
  select.addEventListener("change", () => { state.choices[pair][key] = select.value; });
  return el("li", {}, el("label", { for: id, text: `${row.name || row.record_id} (${row.side === "hs" ? "HubSpot" : "QuickBooks"})` }), select);
}

function previewed(pair) {
  const job = state.previews[pair] && state.previews[pair].preview;
  return Boolean(job && job.status === "finished" && job.settings_version === state.syncs[pair].version);
}

function previewOf(pair, act) {
  const summary = state.previews[pair];
  const job = summary && summary.preview;
  if (!job) return el("p", { class: "muted", text: "Preview what the first sync will do: nothing is written to either app." });
  if (job.status === "finished" && !previewed(pair)) {
    return el("p", { class: "muted", text: "The settings or choices changed since the last preview: preview again to see what the first sync will do." });
  }
  if (job.status !== "finished") return progressOf(job, "Preview");
  const changed = job.changed_since || { hs: 0, qbo: 0 };
  const stale = changed.hs + changed.qbo > 0
    ? el("p", { class: "badge", role: "status", text: `${records(changed.hs + changed.qbo)} changed since this preview (${changed.hs} in HubSpot, ${changed.qbo} in QuickBooks): preview again to see what the first sync will do with them.` })
    : "";
  const counts = Object.entries(job.rows).filter(([, n]) => n > 0);
  const list = el("ul", { class: "preview" }, ...counts.map(([kind, n]) => el("li", {},
    `${n} ${ROW_KINDS[kind] || kind} · `,
    el("a", { href: `/api/syncs/${pair}/preview.csv?kind=${kind}`, download: "", text: "CSV" }))));
  const ambiguous = summary.ambiguous || [];
  state.choices[pair] = state.choices[pair] || {};
  const decide = () => act(async () => {
    const decisions = Object.entries(state.choices[pair]).filter(([, v]) => v).map(([key, value]) => {
      const [side, recordId] = key.split(":");
      const [choice, otherId] = value.split(":");
      return { side, record_id: recordId, choice, other_id: otherId || "" };
    });
    if (!decisions.length) return "Choose for at least one record first.";
    await api("POST", `/api/syncs/${pair}/decisions`, { decisions });
    state.choices[pair] = {};
    await api("POST", `/api/syncs/${pair}/preview`);
    return "Choices saved; the preview runs again with them.";
  });
  return el("div", {},
    el("p", { text: "The first sync will do this:" }), list, stale,
    ambiguous.length ? el("fieldset", {}, el("legend", { text: "Records with several matches: choose" }),
      el("ul", { class: "choices" }, ...ambiguous.map((row) => choiceFor(pair, row))),
      el("button", { type: "button", onclick: decide, text: "Apply choices" })) : "");
}

function card(sync) {
  const pair = sync.pair;
  const status = sync.status;
  const id = (name) => `${pair}-${name}`;
  const enabled = el("input", { type: "checkbox", id: id("enabled"), name: "enabled", checked: sync.enabled });
  const direction = options(el("select", { id: id("direction"), name: "direction" }), DIRECTIONS, sync.direction);
  const policy = options(el("select", { id: id("policy"), name: "policy" }), POLICIES, sync.policy);
  const onDelete = options(el("select", { id: id("on-delete"), name: "on_hubspot_delete" }), ON_HUBSPOT_DELETE, sync.on_hubspot_delete);
  const onInactive = options(el("select", { id: id("on-inactive"), name: "on_qbo_inactive" }), ON_QBO_INACTIVE, sync.on_qbo_inactive);
  const behaviours = () => ({ on_hubspot_delete: onDelete.value, on_qbo_inactive: onInactive.value });
  const twoWay = TWO_WAY.includes(pair);
  const offered = (pair === "contacts" && state.filterChoices.contacts) || { lifecycle_stages: [], lists: [] };
  const stages = picker(id("stages"), "Only contacts in these lifecycle stages (none ticked: every stage)",
    offered.lifecycle_stages, sync.filters.lifecycle_stages || []);
  const lists = picker(id("lists"), "Only contacts in these HubSpot lists (none ticked: any list)",
    offered.lists.map((l) => ({ value: l.id, label: `${l.name} (${l.size})` })), sync.filters.list_ids || []);
  const filters = () => ({ lifecycle_stages: stages.values(), list_ids: lists.values() });
  const billing = state.filterChoices.invoices || { tax_codes: [], items: [] };
  const defaults = sync.invoice_defaults || {};
  // A saved choice QuickBooks no longer offers stays listed, so saving the card does not drop it unseen.
  const named = (choices, none, saved) => [["", none], ...choices.map((c) => [c.value, c.label]),
    ...(saved && !choices.some((c) => c.value === saved) ? [[saved, `${saved} (no longer offered by QuickBooks)`]] : [])];
  const taxCode = options(el("select", { id: id("tax-code"), name: "tax_code" }),
    named(billing.tax_codes, "None: each item's own tax code", defaults.tax_code), defaults.tax_code || "");
  const customItem = options(el("select", { id: id("custom-item"), name: "custom_item" }),
    named(billing.items, "None: refuse line items not in the product library", defaults.custom_item), defaults.custom_item || "");
  const invoiceDefaults = () => ({ tax_code: taxCode.value || null, custom_item: customItem.value || null });
  const bothWays = el("input", { type: "checkbox", id: id("both-ways"), name: "hubspot_invoices", checked: Boolean(sync.hubspot_invoices) });
  const invoices = pair === "invoices";
  // Each action marks the card busy, reloads every card, then says what happened (so a message means the
  // page already shows the new state).
  const act = async (work) => {
    article.setAttribute("aria-busy", "true");
    for (const control of article.querySelectorAll("button, input, select")) control.disabled = true;
    let message;
    try {
      message = await work();
    } catch (error) {
      message = error.status === 409 ? "Someone changed these settings meanwhile; reloaded." : `Not saved: ${error.message}`;
    }
    await loadSyncs();
    if (message) toast(message);
  };
  const save = () => act(async () => {
    const changes = { version: sync.version, enabled: enabled.checked };
    if (twoWay) Object.assign(changes, { direction: direction.value, policy: policy.value }, behaviours());
    if (pair === "contacts") changes.filters = filters();
    if (invoices) Object.assign(changes, { invoice_defaults: invoiceDefaults(), hubspot_invoices: bothWays.checked });
    const answer = await api("PUT", `/api/syncs/${pair}`, changes);
    return answer.job_id ? `${LABELS[pair]} is on: the initial sync started.` : "Saved.";
  });
  const remove = () => act(async () => {
    if (!window.confirm(`Delete the ${LABELS[pair]} sync? It stops, and hubbooks forgets which records are linked. Records stay in both apps.`)) return "";
    await api("DELETE", `/api/syncs/${pair}?confirm=${pair}`);
    return `${LABELS[pair]}: deleted.`;
  });
  const resync = () => act(async () => {
    await api("POST", `/api/syncs/${pair}/resync`);
    return "Resync started.";
  });
  const setUp = status.state === "not_set_up";
  const since = el("input", { type: "date", id: id("since"), name: "bring_since", value: sync.bring_since || "" });
  const saveSettings = async () => {
    const changes = { version: sync.version };
    if (twoWay) Object.assign(changes, { direction: direction.value, policy: policy.value }, behaviours());
    if (pair === "contacts") changes.filters = filters();
    if (invoices) Object.assign(changes, { invoice_defaults: invoiceDefaults(), hubspot_invoices: bothWays.checked });
    if (!twoWay && since.value) changes.bring_since = since.value;
    return (await api("PUT", `/api/syncs/${pair}`, changes)).sync;
  };
  const preview = () => act(async () => {
    await saveSettings();
    await api("POST", `/api/syncs/${pair}/preview`);
    return "Preview started: nothing is written while it runs.";
  });
  const start = () => act(async () => {
    // Two-way pairs start with the settings their preview ran with; the others save theirs now.
    const version = twoWay ? sync.version : (await saveSettings()).version;
    const job = twoWay && state.previews[pair] && state.previews[pair].preview;
    const changed = job && job.changed_since ? job.changed_since.hs + job.changed_since.qbo : 0;
    if (changed && !window.confirm(`${records(changed)} changed since the preview. Start anyway? (Cancel, then Preview, to see what the first sync will do with them.)`)) return "";
    try {
      await api("POST", `/api/syncs/${pair}/start`, { version, accept_changes: changed > 0 });
    } catch (error) {
      if (error.status === 409) return `Not started: ${error.message}`;
      throw error;
    }
    return `${LABELS[pair]} is set up: the first sync started.`;
  });
  const article = el("article", { class: "card", id: `sync-${pair}`, "aria-labelledby": id("title") },
    el("h3", { id: id("title"), text: LABELS[pair] }),
    setUp ? el("p", { class: "badge", text: "Not set up: nothing syncs until you set it up." }) : el("label", { for: id("enabled") }, enabled, " Sync on"),
    twoWay ? el("label", { for: id("direction"), text: "Direction" }) : "",
    twoWay ? direction : "",
    twoWay ? el("label", { for: id("policy"), text: "When both sides changed" }) : "",
    twoWay ? policy : "",
    twoWay ? el("label", { for: id("on-delete"), text: "When a record is deleted in HubSpot" }) : "",
    twoWay ? onDelete : "",
    twoWay ? el("label", { for: id("on-inactive"), text: "When a record is made inactive in QuickBooks" }) : "",
    twoWay ? onInactive : "",
    pair === "contacts" ? stages : "",
    pair === "contacts" ? lists : "",
    invoices && billing.tax_codes.length ? el("label", { for: id("tax-code"), text: "Workflow action: tax code for lines whose item has none" }) : "",
    invoices && billing.tax_codes.length ? taxCode : "",
    invoices ? el("label", { for: id("custom-item"), text: "Workflow action: QuickBooks item for line items not in the product library" }) : "",
    invoices ? customItem : "",
    invoices ? el("label", { for: id("both-ways") }, bothWays, " Invoices made open in HubSpot become QuickBooks invoices too") : "",
    setUp && !twoWay ? el("label", { for: id("since"), text: "Bring existing ones dated from (empty: all)" }) : "",
    setUp && !twoWay ? since : "",
    setUp ? "" : el("p", { class: "muted counts", text: `${status.linked} linked · ${status.errors} with errors` }),
    setUp ? (twoWay ? previewOf(pair, act) : "") : progressOf(status.job),
    setUp
      ? el("div", { class: "row" },
        twoWay ? el("button", { type: "button", onclick: preview, text: "Preview" }) : "",
        el("button", { type: "button", class: "primary", onclick: start, text: "Save and sync",
          disabled: twoWay && !previewed(pair) }))
      : el("div", { class: "row" },
        el("button", { type: "button", class: "primary", onclick: save, text: "Save" }),
        el("button", { type: "button", onclick: resync, text: "Resync" }),
        el("button", { type: "button", class: "danger", onclick: remove, text: "Delete sync" })));
  return article;
}

async function loadSyncs() {
  const { syncs } = await api("GET", "/api/syncs");
  // A poll answered after a save may carry the version before it: keep the newest, or the next save is refused.
  for (const sync of syncs) {
    const known = state.syncs[sync.pair];
    if (!known || sync.version >= known.version) state.syncs[sync.pair] = sync;
  }
  for (const pair of ["contacts", "invoices"]) {
    // What the pickers offer comes from the apps: when one cannot answer now, the cards show without it.
    if (!state.filterChoices[pair]) state.filterChoices[pair] = await api("GET", `/api/choices/${pair}`).catch(() => undefined);
  }
  for (const sync of syncs.filter((s) => s.status.state === "not_set_up" && TWO_WAY.includes(s.pair))) {
    const summary = await api("GET", `/api/syncs/${sync.pair}/preview`);
    if (summary.preview && summary.preview.status === "finished" && summary.preview.rows.ambiguous) {
      summary.ambiguous = (await api("GET", `/api/syncs/${sync.pair}/preview/rows?kind=ambiguous&limit=50`)).items;
    }
    state.previews[sync.pair] = summary;
  }
  const focused = document.activeElement && document.activeElement.id;
  document.getElementById("syncs").replaceChildren(...syncs.map((sync) => card(state.syncs[sync.pair])));
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  const previewing = Object.values(state.previews).some((p) => p.preview && p.preview.status !== "finished");
  const running = previewing || syncs.some((s) => s.status.job && s.status.job.status !== "finished");
  if (running && !state.polling) state.polling = setInterval(refresh, 1000);
  if (!running && state.polling) { clearInterval(state.polling); state.polling = null; }
}

function mappingRow(pair, mapping, index) {
  const fields = state.fields[pair];
  const hubspot = el("select", { "aria-label": `HubSpot property, row ${index + 1}`, name: "hubspot" });
  const known = fields.hubspot.some((p) => p.name === mapping.hubspot);
  const choices = known || !mapping.hubspot ? fields.hubspot : [{ name: mapping.hubspot, label: mapping.hubspot }, ...fields.hubspot];
  for (const p of choices) hubspot.append(el("option", { value: p.name, text: `${p.label} (${p.name})`, selected: p.name === mapping.hubspot }));
  const qbo = el("select", { "aria-label": `QuickBooks field, row ${index + 1}`, name: "qbo" });
  for (const f of fields.qbo) qbo.append(el("option", { value: f.path, text: `${f.label} (${f.path})`, selected: f.path === mapping.qbo }));
  const direction = options(el("select", { "aria-label": `Direction, row ${index + 1}`, name: "direction" }), DIRECTIONS, mapping.direction);
  const transform = el("select", { "aria-label": `Transform, row ${index + 1}`, name: "transform" });
  for (const t of fields.transforms) transform.append(el("option", { value: t, text: t, selected: t === mapping.transform }));
  const remove = el("button", { type: "button", "aria-label": `Remove row ${index + 1}`, text: "Remove",
    onclick: (event) => event.target.closest("tr").remove() });
  return el("tr", { "data-row": String(index) }, el("td", {}, hubspot), el("td", {}, qbo), el("td", {}, direction), el("td", {}, transform), el("td", {}, remove));
}

async function loadMappings() {
  const pair = document.getElementById("mapping-pair").value;
  if (!state.fields[pair]) state.fields[pair] = await api("GET", `/api/fields/${pair}`);
  const sync = await api("GET", `/api/syncs/${pair}`);
  state.syncs[pair] = { ...state.syncs[pair], ...sync };
  document.querySelector("#mappings tbody").replaceChildren(...sync.mappings.map((m, i) => mappingRow(pair, m, i)));
  document.getElementById("mapping-result").textContent = "";
}

async function saveMappings() {
  const pair = document.getElementById("mapping-pair").value;
  const rows = [...document.querySelectorAll("#mappings tbody tr")];
  const mappings = rows.map((row) => Object.fromEntries(["hubspot", "qbo", "direction", "transform"].map((name) => [name, row.querySelector(`[name=${name}]`).value])));
  const result = document.getElementById("mapping-result");
  try {
    const answer = await api("PUT", `/api/syncs/${pair}`, { version: state.syncs[pair].version, mappings });
    await loadMappings();
    result.replaceChildren(el("span", { text: "Mappings saved. " }),
      answer.resync_offered ? el("button", { type: "button", id: "offer-resync", text: "Resync now to apply them to every record",
        onclick: async () => { await api("POST", `/api/syncs/${pair}/resync`); toast("Resync started."); await loadSyncs(); } }) : "");
  } catch (error) {
    // The rows stay as they are, so each problem can be fixed where it is.
    const problems = (error.data && error.data.errors) || [{ field: "", message: error.message }];
    result.replaceChildren(el("ul", {}, ...problems.map((p) => el("li", { class: "problem", text: `${p.field ? p.field + ": " : ""}${p.message}` }))));
  }
}

async function loadErrors() {
  const { items } = await api("GET", "/api/errors?limit=100");
  const table = document.getElementById("errors");
  table.hidden = items.length === 0;
  document.getElementById("errors-empty").hidden = items.length > 0;
  table.querySelector("tbody").replaceChildren(...items.map((e) => el("tr", {},
    recordCell(e.pair, e.side, e.record_id, e.name),
    el("td", {}, el("strong", { text: e.category.replaceAll("_", " ") }), el("br"), e.message),
    el("td", { class: "fix", text: e.fix }),
    el("td", { text: String(e.attempts), "data-label": "Attempts" }),
    el("td", { text: new Date(e.last_seen).toLocaleString(), "data-label": "Last seen" }),
    el("td", {}, el("button", { type: "button", text: "Resync", "aria-label": `Resync ${e.name || `${e.pair} record ${e.record_id}`}`,
      onclick: async () => { await api("POST", `/api/records/${e.pair}/${e.side}/${e.record_id}/resync`); toast("Queued."); } })))));
}

async function loadExcluded() {
  const pairs = Object.values(state.syncs).filter((s) => TWO_WAY.includes(s.pair) && s.status.state !== "not_set_up");
  document.getElementById("in-sync").textContent = Object.values(state.syncs)
    .filter((s) => s.status.state !== "not_set_up")
    .map((s) => `${LABELS[s.pair]}: ${s.status.linked} in sync`).join(" · ") || "No sync is set up yet.";
  const rows = [];
  for (const sync of pairs) {
    const { items } = await api("GET", `/api/excluded/${sync.pair}?limit=50`);
    for (const e of items) {
      rows.push(el("tr", {},
        recordCell(sync.pair, e.side, e.record_id, e.name),
        el("td", { text: e.reason }),
        el("td", {}, el("button", { type: "button", text: "Include it", "aria-label": `Include ${e.name || e.record_id}`,
          onclick: async () => { await api("POST", `/api/records/${sync.pair}/${e.side}/${e.record_id}/include`); toast("Included: it syncs now."); await loadExcluded(); } }))));
    }
  }
  document.getElementById("excluded").hidden = rows.length === 0;
  document.getElementById("excluded-empty").hidden = rows.length > 0;
  document.querySelector("#excluded tbody").replaceChildren(...rows);
}

async function loadHistory() {
  const { items } = await api("GET", "/api/history?limit=15");
  const line = (h) => `${new Date(Number(h.at) * 1000).toLocaleTimeString()} · ${h.text}`;
  document.getElementById("history").replaceChildren(...items.map((h) => el("li", { text: line(h) })));
}

async function refresh() {
  await Promise.all([loadSyncs(), loadErrors(), loadHistory()]);
  await loadExcluded();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("mapping-pair").addEventListener("change", loadMappings);
  document.getElementById("add-mapping").addEventListener("click", () => {
    const pair = document.getElementById("mapping-pair").value;
    const body = document.querySelector("#mappings tbody");
    const direction = pair === "invoices" ? "qbo_to_hubspot" : "both";
    body.append(mappingRow(pair, { hubspot: "", qbo: "", direction, transform: "trim" }, body.children.length));
    body.lastElementChild.querySelector("select").focus();
  });
  document.getElementById("save-mappings").addEventListener("click", saveMappings);
  document.getElementById("sign-out").addEventListener("click", async () => {
    await api("POST", "/api/logout");
    window.location.assign("/");
  });
  try {
    await loadConnection();
    await Promise.all([refresh(), loadMappings()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    toast(`Could not load the settings: ${error.message}`);
  }
});
