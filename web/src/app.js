// The web app's entry: a small router over the pages, and the header's session.

import { accounts } from "./api.js";
import { h, navigate, replace } from "./dom.js";
import { onMode } from "./feed.js";
import * as session from "./session.js";
import { mountAccount } from "./pages/account.js";
import { mountLogin, mountSignup } from "./pages/login.js";
import { mountMarkets } from "./pages/markets.js";
import { mountTrade } from "./pages/trade.js";

const routes = [
  [/^\/$/, () => mountMarkets],
  [/^\/trade\/([A-Za-z0-9]+)$/, () => mountTrade],
  [/^\/login$/, () => mountLogin],
  [/^\/signup$/, () => mountSignup],
  [/^\/account$/, () => mountAccount],
];

const main = document.getElementById("main");
let unmount = null;

function route() {
  if (unmount) unmount();
  unmount = null;
  const path = location.pathname;
  for (const [pattern, page] of routes) {
    const match = pattern.exec(path);
    if (match) {
      replace(main);
      main.className = "";
      unmount = page()(main, ...match.slice(1)) || null;
      markNav(path);
      return;
    }
  }
  replace(main, h("p", { class: "notice", text: "There is no page here." }));
}

function markNav(path) {
  for (const link of document.querySelectorAll("#nav a")) {
    const here = link.getAttribute("href");
    const active = here === "/" ? path === "/" : path.startsWith("/trade/");
    link.classList.toggle("active", active);
  }
}

function renderSession() {
  const box = document.getElementById("session");
  if (session.signedIn()) {
    replace(
      box,
      h("a", { href: "/account", "data-link": true, text: session.user(), id: "whoami" }),
      h("button", { type: "button", class: "link", id: "logout", onclick: logOut, text: "Log out" }),
    );
  } else {
    replace(
      box,
      h("a", { href: "/login", "data-link": true, text: "Log in" }),
      h("a", { href: "/signup", "data-link": true, class: "button small", text: "Sign up" }),
    );
  }
}

async function logOut() {
  const refresh = session.refreshToken();
  session.end();
  try {
    if (refresh) await accounts.logout(refresh);
  } catch {
    // The tokens are gone from this tab either way.
  }
  navigate("/");
}

// Same-origin links marked data-link change the page without reloading it.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  if (link.getAttribute("href") !== location.pathname) navigate(link.getAttribute("href"));
});

window.addEventListener("popstate", route);
window.addEventListener("app:navigate", route);
let wasSignedIn = session.signedIn();
session.onChange(() => {
  renderSession();
  // A session that ended (logged out, or its refresh token refused) redraws the
  // page as a visitor sees it.
  if (wasSignedIn && !session.signedIn()) route();
  wasSignedIn = session.signedIn();
});

const MODES = {
  stream: "Live: streaming",
  poll: "Live: polling",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  offline: "Offline, retrying…",
};
onMode((mode) => {
  const el = document.getElementById("feed-mode");
  el.textContent = MODES[mode] || mode;
  el.dataset.mode = mode;
});

renderSession();
route();
