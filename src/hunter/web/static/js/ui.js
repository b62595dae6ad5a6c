// Shared helpers: page data, the live region, toasts, API calls with the CSRF token, busy buttons.

const dataNode = document.getElementById("ui-data");
export const data = dataNode ? JSON.parse(dataNode.textContent) : { root: "", text: {}, caps: {}, screens: {} };

/** A catalogue string the page handed over, with {placeholders} filled in. */
export function text(key, params = {}) {
  const template = data.text[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

export function url(path) {
  return `${data.root}${path}`;
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  } catch {
    return "";
  }
}

let liveTimer = 0;
/** Say something politely through the page's one live region. */
export function announce(message) {
  const live = document.getElementById("live");
  if (!live) return;
  // Clearing first makes a repeated message be read again.
  live.textContent = "";
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => {
    live.textContent = message;
  }, 50);
}

/** A short visual confirmation; the live region speaks it. Errors stay inline, not here. */
export function toast(message, { tone = "success", timeout = 4000 } = {}) {
  const box = document.getElementById("toasts");
  if (box) {
    const item = document.createElement("div");
    item.className = tone === "error" ? "toast toast--error" : "toast";
    item.textContent = message;
    box.append(item);
    setTimeout(() => item.remove(), timeout);
  }
  announce(message);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || text("errorRequest", { status }));
    this.status = status;
  }
}

/** JSON API call from the page: same origin, session cookie, CSRF header. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json", "X-CSRF-Token": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path), {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, text("errorNetwork"));
  }
  if (!response.ok) {
    let detail = "";
    try {
      const problem = await response.json();
      detail = typeof problem.detail === "string" ? problem.detail : "";
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, detail || text("errorRequest", { status: response.status }));
  }
  return response.status === 204 ? null : response.json().catch(() => null);
}

/** Mark a button busy while `work` runs; returns its result. */
export async function busy(button, work) {
  if (!button) return work();
  button.setAttribute("aria-busy", "true");
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
}

/** Buttons for endpoints that are not installed are focusable but do nothing except say so. */
export function unavailable(element) {
  if (element?.getAttribute("aria-disabled") === "true") {
    toast(text("notAvailable"), { tone: "error" });
    return true;
  }
  return false;
}

/** True while the user is typing somewhere: single-key shortcuts must not fire. */
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const field = target.closest("input, textarea, select");
  if (!field) return false;
  const type = (field.getAttribute("type") || "text").toLowerCase();
  return !["checkbox", "radio", "button", "submit", "reset"].includes(type);
}

export async function copyText(value) {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    // Older or locked-down browsers: a hidden textarea and execCommand still work there.
    const area = document.createElement("textarea");
    area.value = value;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

/** Open a native modal dialog and give focus back to where it was when it closes. */
export function openDialog(dialog, focusTarget) {
  if (!dialog || dialog.open) return;
  const opener = document.activeElement;
  dialog.showModal();
  (focusTarget || dialog.querySelector("[autofocus], input, button"))?.focus();
  dialog.addEventListener(
    "close",
    () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
    },
    { once: true },
  );
}
