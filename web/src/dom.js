// Building the page from data without HTML strings: text goes in as text, so
// nothing the exchange or a user sends can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(child));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A table with a header row; the columns at the `numeric` indexes align right. */
export function table(headers, className, numeric = []) {
  const body = h("tbody");
  const cells = headers.map((t, i) =>
    h("th", { scope: "col", text: t, class: numeric.includes(i) ? "num" : undefined }),
  );
  const el = h("table", { class: className }, h("thead", {}, h("tr", {}, cells)), body);
  return { el, body };
}

export function time(ms, withDate = false) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (!withDate) return clock;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

export function navigate(path) {
  history.pushState(null, "", path);
  window.dispatchEvent(new Event("app:navigate"));
}
