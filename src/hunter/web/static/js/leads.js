// The Leads screen: keyboard triage of rows, selection and the bulk bar, the lead drawer and its
// actions. htmx swaps the results; this module keeps focus, selection and the URL in step.

import { announce, api, busy, copyText, data, text, toast, unavailable, url } from "./ui.js";

const htmx = window.htmx;
const results = () => document.getElementById("results");
const drawer = () => document.getElementById("drawer");
const rows = () => [...document.querySelectorAll("#leads-table tbody tr[data-domain]")];
const DEFAULTS = { sort: "priority", page_size: "50" };

let current = -1; // index of the keyboard's current row
let anchor = -1; // where a shift-range selection starts
const selected = new Set();
let allMatching = false;
let drawerDomain = null;

// --- URL helpers ---------------------------------------------------------------------------------

function withLead(domain) {
  const params = new URLSearchParams(location.search);
  if (domain) params.set("lead", domain);
  else params.delete("lead");
  const query = params.toString();
  return `${location.pathname}${query ? `?${query}` : ""}`;
}

function refreshResults() {
  const params = new URLSearchParams(location.search);
  params.delete("lead");
  const query = params.toString();
  return htmx?.ajax("GET", url(`/${query ? `?${query}` : ""}`), { target: "#results", swap: "innerHTML" });
}

// --- rows ---------------------------------------------------------------------------------------

function setCurrent(index, { focus = true } = {}) {
  const list = rows();
  if (!list.length) return;
  current = Math.max(0, Math.min(index, list.length - 1));
  list.forEach((row, i) => row.classList.toggle("is-current", i === current));
  const row = list[current];
  row.scrollIntoView({ block: "nearest" });
  if (focus) row.focus({ preventScroll: true });
}

function currentRow() {
  return rows()[current] ?? null;
}

// --- selection ----------------------------------------------------------------------------------

function syncSelection() {
  const list = rows();
  for (const row of list) {
    const on = allMatching || selected.has(row.dataset.domain);
    row.setAttribute("data-selected", String(on)); // the checkbox tells assistive tech
    const box = row.querySelector("[data-select-row]");
    if (box) box.checked = on;
  }
  const pageBox = document.querySelector("[data-select-page]");
  const onPage = list.filter((row) => selected.has(row.dataset.domain)).length;
  if (pageBox) {
    pageBox.checked = allMatching || (list.length > 0 && onPage === list.length);
    pageBox.indeterminate = !allMatching && onPage > 0 && onPage < list.length;
  }
  const bar = document.querySelector("[data-bulkbar]");
  if (!bar) return;
  const total = Number(bar.dataset.total || 0);
  const count = allMatching ? total : selected.size;
  bar.hidden = count === 0;
  bar.querySelector("[data-bulk-count]").textContent = allMatching
    ? text("allMatching", { count: bar.dataset.totalText })
    : text("selected", { count });
  const all = bar.querySelector('[data-action="select-all-matching"]');
  all.hidden = allMatching || onPage !== list.length || total <= list.length;
}

function toggleRow(index, { range = false } = {}) {
  const list = rows();
  const row = list[index];
  if (!row) return;
  if (allMatching) {
    // Leaving "all matching": keep this page's rows as the explicit selection.
    allMatching = false;
    list.forEach((r) => selected.add(r.dataset.domain));
  }
  const on = !selected.has(row.dataset.domain);
  if (range && anchor >= 0) {
    const [from, to] = anchor < index ? [anchor, index] : [index, anchor];
    for (let i = from; i <= to; i += 1) {
      if (on) selected.add(list[i].dataset.domain);
      else selected.delete(list[i].dataset.domain);
    }
  } else if (on) selected.add(row.dataset.domain);
  else selected.delete(row.dataset.domain);
  anchor = index;
  syncSelection();
}

function clearSelection() {
  selected.clear();
  allMatching = false;
  anchor = -1;
  syncSelection();
}

async function selectedDomains() {
  if (!allMatching) return [...selected];
  const bar = document.querySelector("[data-bulkbar]");
  const answer = await fetch(url(`/leads/matching?${bar.dataset.query}`), { credentials: "same-origin" });
  if (!answer.ok) throw new Error(text("errorRequest", { status: answer.status }));
  return (await answer.json()).domains;
}

// --- bulk actions ---------------------------------------------------------------------------------

async function bulkRescan(button) {
  if (unavailable(button)) return;
  try {
    await busy(button, async () => {
      const domains = await selectedDomains();
      await api("POST", "/api/v1/scans/bulk", { domains });
      toast(text("rescanStarted", { count: domains.length }));
    });
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

function bulkExport(link, event) {
  if (unavailable(link)) {
    event.preventDefault();
    return;
  }
  // Rows picked by hand travel as domain=…; "all matching" is the filter's own query.
  const [base, search] = link.getAttribute("href").split("?");
  const query = new URLSearchParams(search);
  query.delete("domain");
  if (!allMatching) for (const domain of selected) query.append("domain", domain);
  link.setAttribute("href", `${base}?${query}`);
}

async function bulkTag(form, event) {
  event.preventDefault();
  const button = form.querySelector("button");
  if (unavailable(button)) return;
  const tag = form.elements.tag.value.trim();
  if (!tag) return;
  if (allMatching) {
    toast(text("tagAllMatching"), { tone: "error" });
    return;
  }
  const domains = [...selected];
  try {
    await busy(button, () =>
      Promise.all(domains.map((d) => api("PUT", `/api/v1/leads/${encodeURIComponent(d)}/tags/${encodeURIComponent(tag)}`))),
    );
    toast(text("tagged", { count: domains.length }));
    form.reset();
    await refreshResults();
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

// --- drawer ----------------------------------------------------------------------------------------

function updateDrawerNav() {
  const list = rows();
  const index = list.findIndex((row) => row.dataset.domain === drawerDomain);
  const box = drawer();
  const prev = box.querySelector('[data-action="drawer-prev"]');
  const next = box.querySelector('[data-action="drawer-next"]');
  if (prev) prev.disabled = index <= 0;
  if (next) next.disabled = index < 0 || index >= list.length - 1;
  const position = box.querySelector("[data-drawer-position]");
  if (position) position.textContent = index >= 0 ? `${index + 1} / ${list.length}` : "";
  if (index >= 0) setCurrent(index, { focus: false });
}

function focusDrawerTitle() {
  const title = document.getElementById("drawer-title");
  title?.focus();
}

async function loadDrawer(domain) {
  const box = drawer();
  const content = document.getElementById("drawer-content");
  drawerDomain = domain;
  content.replaceChildren(document.getElementById("tpl-drawer-loading").content.cloneNode(true));
  try {
    await htmx.ajax("GET", url(`/leads/${encodeURIComponent(domain)}/panel`), {
      target: "#drawer-content",
      swap: "innerHTML",
    });
  } catch {
    const error = document.createElement("p");
    error.className = "notice notice--danger";
    error.setAttribute("role", "alert");
    error.textContent = text("drawerError");
    content.replaceChildren(error);
  }
  if (!box.open) return;
  updateDrawerNav();
  focusDrawerTitle();
}

async function openDrawer(domain, { push = true } = {}) {
  const box = drawer();
  if (!box.open) box.showModal();
  if (push) history.pushState({ htmx: true }, "", withLead(domain));
  await loadDrawer(domain);
}

async function stepDrawer(step) {
  const list = rows();
  const index = list.findIndex((row) => row.dataset.domain === drawerDomain);
  const next = list[index + step];
  if (index < 0 || !next) return;
  history.replaceState({ htmx: true }, "", withLead(next.dataset.domain));
  await loadDrawer(next.dataset.domain);
}

function onDrawerClosed() {
  const domain = drawerDomain;
  drawerDomain = null;
  if (new URLSearchParams(location.search).has("lead")) history.pushState({ htmx: true }, "", withLead(null));
  // Focus goes back to the lead's row (or the list) so j/k carry on from there.
  const index = rows().findIndex((row) => row.dataset.domain === domain);
  if (index >= 0) setCurrent(index);
  else document.getElementById("q")?.focus();
}

async function rescan(domain, button) {
  if (!domain) return;
  if (unavailable(button) || !data.caps.rescan || !data.canWrite) {
    if (!button) toast(text("notAvailable"), { tone: "error" });
    return;
  }
  announce(text("rescanning", { domain }));
  try {
    await busy(button, () => api("POST", "/api/v1/scans", { domain }));
    toast(text("rescanned", { domain }));
    await refreshResults();
    if (drawer().open && drawerDomain === domain) await loadDrawer(domain);
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

async function copyFromDrawer(button) {
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const done = await copyText(source.textContent.trim());
  drawer().dataset.copied = done ? button.dataset.copy.slice(1) : "";
  toast(done ? button.dataset.toast : text("copyFailed"), { tone: done ? "success" : "error" });
}

async function tagLead(form, event) {
  event.preventDefault();
  const button = form.querySelector("button");
  if (unavailable(button)) return;
  const tag = form.elements.tag.value.trim();
  if (!tag || !drawerDomain) return;
  const domain = drawerDomain;
  try {
    await busy(button, () =>
      api("PUT", `/api/v1/leads/${encodeURIComponent(domain)}/tags/${encodeURIComponent(tag)}`),
    );
    toast(text("tagAdded", { tag }));
    await loadDrawer(domain);
    refreshResults();
    document.getElementById("drawer-tag")?.focus();
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

async function untagLead(button) {
  if (unavailable(button)) return;
  const tag = button.dataset.tag;
  const domain = drawerDomain;
  try {
    await busy(button, () =>
      api("DELETE", `/api/v1/leads/${encodeURIComponent(domain)}/tags/${encodeURIComponent(tag)}`),
    );
    toast(text("tagRemoved", { tag }));
    await loadDrawer(domain);
    refreshResults();
    document.getElementById("drawer-tag")?.focus();
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

async function toggleFavourite(button) {
  if (unavailable(button)) return;
  const on = button.getAttribute("aria-pressed") !== "true";
  const path = data.caps.favourite.replace("{domain}", encodeURIComponent(drawerDomain));
  try {
    await busy(button, () => api(on ? "PUT" : "DELETE", path));
    button.setAttribute("aria-pressed", String(on));
    button.querySelector("[aria-hidden]").textContent = on ? "★" : "☆";
    toast(text(on ? "favouriteAdded" : "favouriteRemoved"));
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

async function addNote(form, event) {
  event.preventDefault();
  const button = form.querySelector("button");
  if (unavailable(button)) return;
  const body = form.elements.body.value.trim();
  if (!body) return;
  const domain = drawerDomain;
  try {
    await busy(button, () => api("POST", data.caps.notes.replace("{domain}", encodeURIComponent(domain)), { body }));
    toast(text("noteSaved"));
    await loadDrawer(domain);
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

// --- filters ---------------------------------------------------------------------------------------

function clearFilters(event) {
  const form = document.getElementById("filters");
  if (!form || !htmx) return;
  event.preventDefault();
  for (const field of form.querySelectorAll("input, select")) {
    if (field.type === "checkbox") field.checked = false;
    else if (field.type !== "hidden" && field.tagName !== "SELECT") field.value = "";
    else if (field.tagName === "SELECT" && field.name !== "page_size") field.value = "";
  }
  const search = document.getElementById("q");
  if (search) search.value = "";
  form.requestSubmit();
}

function setSheet(open) {
  const bar = document.getElementById("filters");
  const toggle = bar.querySelector('[data-action="filters-open"]');
  if (open) bar.setAttribute("data-open", "");
  else bar.removeAttribute("data-open");
  toggle.setAttribute("aria-expanded", String(open));
  (open ? bar.querySelector(".filterbar__panel input") : toggle)?.focus();
}

// --- htmx wiring -------------------------------------------------------------------------------

let focusKey = null;

function onConfigRequest(event) {
  const { formData, verb } = event.detail;
  if (verb !== "get" || !formData) return;
  // Short URLs: no empty fields, no defaults (the server reads their absence the same way).
  for (const [key, value] of [...formData.entries()]) {
    if (value === "" || DEFAULTS[key] === value) formData.delete(key);
  }
}

function onBeforeSwap(event) {
  if (event.detail.target?.id !== "results") return;
  const active = document.activeElement;
  focusKey = active && results().contains(active) ? active.dataset.focusKey || (active.id ? `#${active.id}` : null) : null;
  if (event.detail.isError || event.detail.xhr.status >= 400) {
    // Keep the page; show the inline error with a retry instead of a broken fragment.
    event.detail.shouldSwap = false;
    showResultsError();
  }
}

function onAfterSwap(event) {
  if (event.detail.target?.id !== "results") return;
  clearSelection();
  current = -1;
  const message = results().querySelector("[data-announce]")?.dataset.announce;
  if (message) announce(message);
  if (focusKey) {
    const target = focusKey.startsWith("#")
      ? document.getElementById(focusKey.slice(1))
      : results().querySelector(`[data-focus-key="${focusKey}"]`);
    target?.focus();
    focusKey = null;
  }
  if (drawerDomain && drawer().open) updateDrawerNav();
}

function showResultsError() {
  const box = results();
  box.classList.remove("htmx-request");
  box.replaceChildren(document.getElementById("tpl-results-error").content.cloneNode(true));
  announce(text("leadsError"));
}

function onSendError(event) {
  if (event.detail.target?.id === "results" || event.detail.elt?.closest?.("#filters, #results")) showResultsError();
}

// --- events ------------------------------------------------------------------------------------------

function onClick(event) {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const open = target.closest("[data-open-lead]");
  if (open && !(event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1)) {
    event.preventDefault();
    const row = open.closest("tr");
    if (row) setCurrent(rows().indexOf(row), { focus: false });
    openDrawer(open.dataset.openLead);
    return;
  }
  const rowBox = target.closest("[data-select-row]");
  if (rowBox) {
    event.preventDefault(); // our state decides the box, not the browser's toggle
    const index = rows().indexOf(rowBox.closest("tr"));
    setTimeout(() => toggleRow(index, { range: event.shiftKey }), 0);
    return;
  }
  if (target.closest("[data-select-page]")) {
    const list = rows();
    const all = list.every((row) => selected.has(row.dataset.domain)) || allMatching;
    allMatching = false;
    list.forEach((row) => (all ? selected.delete(row.dataset.domain) : selected.add(row.dataset.domain)));
    syncSelection();
    return;
  }
  const action = target.closest("[data-action]");
  if (!action) return;
  switch (action.dataset.action) {
    case "select-all-matching":
      allMatching = true;
      syncSelection();
      announce(document.querySelector("[data-bulk-count]").textContent);
      break;
    case "clear-selection":
      clearSelection();
      break;
    case "bulk-rescan":
      bulkRescan(action);
      break;
    case "bulk-export":
      bulkExport(action, event);
      break;
    case "clear-filters":
      clearFilters(event);
      break;
    case "retry-results":
      refreshResults();
      break;
    case "filters-open":
      setSheet(true);
      break;
    case "filters-close":
      setSheet(false);
      break;
    case "drawer-close":
      drawer().close();
      break;
    case "drawer-prev":
      stepDrawer(-1);
      break;
    case "drawer-next":
      stepDrawer(1);
      break;
    case "rescan":
      rescan(action.dataset.domain, action);
      break;
    case "copy":
      copyFromDrawer(action);
      break;
    case "untag":
      untagLead(action);
      break;
    case "favourite":
      toggleFavourite(action);
      break;
    default:
  }
}

function onSubmit(event) {
  const form = event.target;
  if (form.matches("[data-bulk-tag]")) bulkTag(form, event);
  else if (form.matches("[data-tag-form]")) tagLead(form, event);
  else if (form.matches("[data-note-form]")) addNote(form, event);
}

/** Leads keys: j/k move, Enter/o open, x select (Shift: range), r rescan, c copy script. */
function onKey(event) {
  const inDrawer = drawer().open;
  const key = event.key;
  if (inDrawer) {
    if (key === "j") stepDrawer(1);
    else if (key === "k") stepDrawer(-1);
    else if (key === "r") rescan(drawerDomain, drawer().querySelector('[data-action="rescan"]'));
    else if (key === "c") {
      const button = drawer().querySelector('[data-action="copy"][data-copy="#copy-script"]');
      if (button && !button.disabled) copyFromDrawer(button);
    } else return false;
    return true;
  }
  if (document.getElementById("filters")?.hasAttribute("data-open")) return false;
  if (key === "j" || key === "ArrowDown" && event.target.closest?.("tr[data-domain]")) {
    setCurrent(current < 0 ? 0 : current + 1);
  } else if (key === "k" || key === "ArrowUp" && event.target.closest?.("tr[data-domain]")) {
    setCurrent(current < 0 ? 0 : current - 1);
  } else if ((key === "Enter" && event.target.matches?.("tr[data-domain]")) || key === "o") {
    const row = currentRow();
    if (!row) return false;
    openDrawer(row.dataset.domain);
  } else if (key === "x" || key === "X") {
    if (current < 0) setCurrent(0);
    toggleRow(current, { range: event.shiftKey });
  } else if (key === "r") {
    const row = currentRow();
    if (!row) return false;
    rescan(row.dataset.domain, null);
  } else if (key === "c") {
    const row = currentRow();
    if (!row) return false;
    openDrawer(row.dataset.domain).then(() => {
      const button = drawer().querySelector('[data-action="copy"][data-copy="#copy-script"]');
      if (button && !button.disabled) copyFromDrawer(button);
    });
  } else return false;
  return true;
}

export function init(keyHandlers) {
  keyHandlers.push(onKey);
  document.addEventListener("click", onClick);
  document.addEventListener("submit", onSubmit);
  document.addEventListener("focusin", (event) => {
    const row = event.target instanceof Element ? event.target.closest("tr[data-domain]") : null;
    if (row) {
      current = rows().indexOf(row);
      rows().forEach((r, i) => r.classList.toggle("is-current", i === current));
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && document.getElementById("filters")?.hasAttribute("data-open")) setSheet(false);
  });
  document.body.addEventListener("htmx:configRequest", onConfigRequest);
  document.body.addEventListener("htmx:beforeSwap", onBeforeSwap);
  document.body.addEventListener("htmx:afterSwap", onAfterSwap);
  document.body.addEventListener("htmx:sendError", onSendError);
  drawer().addEventListener("close", onDrawerClosed);
  syncSelection();
  const deepLink = drawer().dataset.openOnLoad;
  if (deepLink) {
    drawerDomain = drawer().querySelector("[data-lead]")?.dataset.lead || deepLink;
    drawer().showModal();
    updateDrawerNav();
    focusDrawerTitle();
  }
}
