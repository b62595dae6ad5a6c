// The app shell: theme and language switches, quick scan, command palette, help, global keys.
// Screen modules (leads.js) register their own keys through `keyHandlers`.

import { announce, api, busy, data, isTyping, openDialog, text, toast, unavailable, url } from "./ui.js";

/** Handlers screens add: (event) => true when they used the key. */
export const keyHandlers = [];

const THEMES = ["system", "light", "dark"];

function currentPath() {
  const path = location.pathname.startsWith(data.root) ? location.pathname.slice(data.root.length) : location.pathname;
  return (path || "/") + location.search;
}

// --- theme -------------------------------------------------------------------------------------

function setTheme(theme) {
  const root = document.documentElement;
  if (theme === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", theme);
  const path = `${data.root}/`;
  document.cookie = `hunter_theme=${theme}; Path=${path}; Max-Age=31536000; SameSite=Lax`;
  const button = document.querySelector('[data-action="theme"]');
  if (button) {
    const name = data.text.themeNames?.[theme] ?? theme;
    button.dataset.themeCurrent = theme;
    button.setAttribute("aria-label", `${data.text.themeLabel}: ${name}`);
    const label = button.querySelector(".hide-narrow");
    if (label) label.textContent = name;
  }
  announce(text("themeChanged", { theme: data.text.themeNames?.[theme] ?? theme }));
}

function cycleTheme() {
  const button = document.querySelector('[data-action="theme"]');
  const now = button?.dataset.themeCurrent || "system";
  setTheme(THEMES[(THEMES.indexOf(now) + 1) % THEMES.length]);
}

function switchLanguage() {
  const form = document.querySelector("[data-locale-form]");
  if (form) {
    form.querySelector("[data-next]").value = currentPath();
    form.submit();
  }
}

// --- quick scan --------------------------------------------------------------------------------

function looksLikeDomain(value) {
  return /^[^\s/@]+\.[^\s/@]{2,}$/u.test(value.trim().replace(/^https?:\/\//, "").replace(/\/.*$/, ""));
}

export async function quickScan(value, button) {
  const domain = value.trim();
  if (!looksLikeDomain(domain)) {
    toast(text("scanInvalid"), { tone: "error" });
    return;
  }
  if (!data.caps.rescan || !data.canWrite) {
    toast(text("notAvailable"), { tone: "error" });
    return;
  }
  announce(text("scanBusy", { domain }));
  try {
    const result = await busy(button, () => api("POST", "/api/v1/scans", { domain }));
    const scanned = result?.domain || domain;
    toast(text("scanDone", { domain: scanned }));
    location.assign(url(`/?lead=${encodeURIComponent(scanned)}`));
  } catch (error) {
    toast(error.message, { tone: "error", timeout: 8000 });
  }
}

// --- command palette ---------------------------------------------------------------------------

function paletteCommands(query) {
  const q = query.trim();
  const fold = (s) => s.toLocaleLowerCase(data.locale === "tr" ? "tr" : "en");
  const commands = [];
  if (looksLikeDomain(q)) {
    commands.push({ label: text("paletteScan", { domain: q }), hint: "↵", run: () => quickScan(q) });
  }
  for (const [key, screen] of Object.entries(data.screens)) {
    commands.push({ label: text("paletteGoto", { screen: screen.label }), run: () => location.assign(screen.href), key });
  }
  commands.push({ label: text("paletteTheme"), run: cycleTheme });
  commands.push({ label: text("paletteLanguage"), run: switchLanguage });
  commands.push({ label: text("paletteHelp"), hint: "?", run: () => openDialog(document.getElementById("help")) });
  if (!q || looksLikeDomain(q)) return commands;
  return commands.filter((c) => fold(c.label).includes(fold(q)));
}

function openPalette() {
  const dialog = document.getElementById("palette");
  if (!dialog || dialog.open) return;
  const input = document.getElementById("palette-input");
  const list = document.getElementById("palette-list");
  let commands = [];
  let active = 0;

  const render = () => {
    commands = paletteCommands(input.value);
    active = Math.min(active, Math.max(commands.length - 1, 0));
    list.replaceChildren(
      ...commands.map((command, index) => {
        const item = document.createElement("li");
        item.id = `palette-item-${index}`;
        item.className = "palette__item";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", String(index === active));
        item.textContent = command.label;
        if (command.hint) {
          const hint = document.createElement("span");
          hint.className = "palette__hint";
          hint.textContent = command.hint;
          item.append(hint);
        }
        item.addEventListener("click", () => run(index));
        return item;
      }),
    );
    if (!commands.length) {
      const empty = document.createElement("li");
      empty.className = "palette__item muted";
      empty.textContent = text("paletteEmpty");
      list.append(empty);
    }
    input.setAttribute("aria-activedescendant", commands.length ? `palette-item-${active}` : "");
    list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
  };
  const run = (index) => {
    const command = commands[index];
    if (!command) return;
    dialog.close();
    command.run();
  };
  const onKey = (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + commands.length) % Math.max(commands.length, 1);
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      run(active);
    }
  };
  const onInput = () => {
    active = 0;
    render();
  };
  input.value = "";
  input.addEventListener("keydown", onKey);
  input.addEventListener("input", onInput);
  dialog.addEventListener(
    "close",
    () => {
      input.removeEventListener("keydown", onKey);
      input.removeEventListener("input", onInput);
    },
    { once: true },
  );
  render();
  openDialog(dialog, input);
}

// --- keys --------------------------------------------------------------------------------------

let pendingG = 0;
const GO = { l: "leads", i: "imports", r: "referrals" };

function onKeyDown(event) {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
    event.preventDefault();
    openPalette();
    return;
  }
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
  if (document.querySelector("dialog.dialog[open]")) return; // a dialog has the keyboard
  if (pendingG && GO[event.key]) {
    event.preventDefault();
    pendingG = 0;
    location.assign(data.screens[GO[event.key]].href);
    return;
  }
  pendingG = 0;
  if (event.key === "g") {
    pendingG = window.setTimeout(() => (pendingG = 0), 1200);
    return;
  }
  if (event.key === "/") {
    const search = document.getElementById("q");
    if (search) {
      event.preventDefault();
      search.focus();
      search.select();
    }
    return;
  }
  if (event.key === "?") {
    event.preventDefault();
    openDialog(document.getElementById("help"));
    return;
  }
  for (const handler of keyHandlers) {
    if (handler(event)) {
      event.preventDefault();
      return;
    }
  }
}

// --- clicks ------------------------------------------------------------------------------------

function onClick(event) {
  const target = event.target instanceof Element ? event.target.closest("[data-action], [data-close]") : null;
  // A click outside an open menu closes it.
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
  if (!target) return;
  if (target.hasAttribute("data-close")) {
    target.closest("dialog")?.close();
    return;
  }
  switch (target.dataset.action) {
    case "palette":
      openPalette();
      break;
    case "help":
      openDialog(document.getElementById("help"));
      break;
    case "theme":
      cycleTheme();
      break;
    case "focus-quickscan":
      document.getElementById("quickscan")?.focus();
      if (getComputedStyle(document.querySelector("[data-quickscan]")).display === "none") openPalette();
      break;
    case "open-dialog":
      openDialog(document.querySelector(target.dataset.target));
      break;
    case "toast-demo":
      toast(text("toastText"));
      break;
    default:
      return;
  }
}

function init() {
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      for (const menu of document.querySelectorAll("details[data-menu][open]")) {
        menu.removeAttribute("open");
        menu.querySelector("summary")?.focus();
      }
    }
  });
  document.querySelector("[data-locale-form]")?.addEventListener("submit", (event) => {
    event.currentTarget.querySelector("[data-next]").value = currentPath();
  });
  document.querySelector("[data-quickscan]")?.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    if (unavailable(form.querySelector("button"))) return;
    quickScan(form.elements.domain.value, form.querySelector("button"));
  });
  // data-ready tells scripts and tests that every handler is in place.
  const screen = document.getElementById("results")
    ? import("./leads.js").then((module) => module.init(keyHandlers))
    : Promise.resolve();
  screen.then(() => document.body.setAttribute("data-ready", "true"));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
