// The signed-in user's tokens. The access token lives in memory and, with the
// refresh token, in this tab's sessionStorage (gone when the tab closes; never in
// a cookie the API would accept, never in localStorage shared by every tab).

const KEY = "exchange.session";
const listeners = new Set();
let current = load();

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return saved && saved.access && saved.refresh ? saved : null;
  } catch {
    return null;
  }
}

function save() {
  if (current) sessionStorage.setItem(KEY, JSON.stringify(current));
  else sessionStorage.removeItem(KEY);
  for (const fn of listeners) fn(current);
}

export function signedIn() {
  return current !== null;
}

export function user() {
  return current ? current.username : null;
}

export function accessToken() {
  return current ? current.access : null;
}

export function refreshToken() {
  return current ? current.refresh : null;
}

export function start(pair, username) {
  current = { access: pair.access, refresh: pair.refresh, username };
  save();
}

export function rotate(pair) {
  if (!current) return;
  current = { ...current, access: pair.access, refresh: pair.refresh };
  save();
}

export function end() {
  current = null;
  save();
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
