// The order form: LIMIT, MARKET and LIMIT_MAKER (post-only), with the symbol's
// filters checked before sending and the exchange's own message when refused.

import { trading } from "../api.js";
import { fmt, isZero, mul, parse, toFixed, toPlain } from "../decimal.js";
import { h, replace } from "../dom.js";
import { checkOrder } from "../filters.js";
import * as session from "../session.js";

const TYPES = [
  ["LIMIT", "Limit"],
  ["MARKET", "Market"],
  ["LIMIT_MAKER", "Post-only"],
];

function field(label, input, suffix) {
  return h(
    "label",
    { class: "field" },
    h("span", { text: label }),
    h("span", { class: "with-suffix" }, input, h("span", { class: "suffix", text: suffix })),
  );
}

export function mountForm(panel, sym, { onPlaced, lastPrice }) {
  if (!session.signedIn()) {
    panel.append(
      h("h2", { text: "Place order" }),
      h(
        "p",
        { class: "muted" },
        h("a", { href: `/login?next=/trade/${sym.symbol}`, "data-link": true, text: "Log in" }),
        " or ",
        h("a", { href: "/signup", "data-link": true, text: "sign up" }),
        " to trade.",
      ),
    );
    return { setBalances() {}, setPrice() {} };
  }
  let side = "BUY";
  let type = "LIMIT";
  let balances = new Map();

  const sideButtons = ["BUY", "SELL"].map((s) =>
    h("button", {
      type: "button",
      class: `side ${s.toLowerCase()}`,
      text: s === "BUY" ? "Buy" : "Sell",
      "data-side": s,
      onclick: () => setSide(s),
    }),
  );
  const typeButtons = TYPES.map(([t, label]) =>
    h("button", { type: "button", class: "tab", text: label, "data-type": t, onclick: () => setType(t) }),
  );
  const tickSize = sym.price.tickSize || "0.00000001";
  const stepSize = sym.lot.stepSize || "0.00000001";
  const price = h("input", {
    name: "price",
    inputmode: "decimal",
    autocomplete: "off",
    placeholder: toPlain(parse(tickSize)),
  });
  const quantity = h("input", {
    name: "quantity",
    inputmode: "decimal",
    autocomplete: "off",
    placeholder: toPlain(parse(stepSize)),
  });
  const tif = h(
    "select",
    { name: "timeInForce" },
    h("option", { value: "GTC", text: "Good till cancelled" }),
    h("option", { value: "IOC", text: "Immediate or cancel" }),
    h("option", { value: "FOK", text: "Fill or kill" }),
  );
  const marketBy = h(
    "select",
    { name: "marketBy" },
    h("option", { value: "quantity", text: `Amount in ${sym.base}` }),
    h("option", { value: "quote", text: `Total in ${sym.quote}` }),
  );
  const priceField = field("Price", price, sym.quote);
  const quantityField = field("Amount", quantity, sym.base);
  const quantitySuffix = quantityField.querySelector(".suffix");
  const tifField = h("label", { class: "field" }, h("span", { text: "Time in force" }), tif);
  const marketByField = h("label", { class: "field" }, h("span", { text: "Order by" }), marketBy);
  const available = h("p", { class: "available muted", id: "available" });
  const total = h("p", { class: "total muted", id: "order-total" });
  const message = h("p", { class: "message", id: "order-message", role: "status" });
  const submit = h("button", { type: "submit", class: "button submit", id: "place-order" });
  const form = h(
    "form",
    { id: "order-form", novalidate: true },
    h("div", { class: "sides" }, sideButtons),
    h("div", { class: "tabs", role: "tablist" }, typeButtons),
    priceField,
    marketByField,
    quantityField,
    tifField,
    total,
    available,
    submit,
    message,
  );
  panel.append(h("h2", { text: "Place order" }), form);

  function say(text, kind) {
    message.textContent = text;
    message.className = `message ${kind}`;
  }

  function setSide(s) {
    side = s;
    for (const b of sideButtons) b.classList.toggle("active", b.dataset.side === s);
    submit.textContent = `${s === "BUY" ? "Buy" : "Sell"} ${sym.base}`;
    submit.className = `button submit ${s.toLowerCase()}`;
    refresh();
  }

  function setType(t) {
    type = t;
    for (const b of typeButtons) {
      b.classList.toggle("active", b.dataset.type === t);
      b.setAttribute("aria-selected", String(b.dataset.type === t));
    }
    priceField.hidden = t === "MARKET";
    tifField.hidden = t !== "LIMIT";
    marketByField.hidden = t !== "MARKET" || !sym.quoteOrderQtyMarketAllowed;
    if (t !== "MARKET") marketBy.value = "quantity";
    refresh();
  }

  function byQuote() {
    return type === "MARKET" && marketBy.value === "quote";
  }

  function refresh() {
    quantitySuffix.textContent = byQuote() ? sym.quote : sym.base;
    quantityField.firstChild.textContent = byQuote() ? "Total" : "Amount";
    const asset = side === "BUY" ? sym.quote : sym.base;
    const digits = side === "BUY" ? sym.priceDigits : sym.qtyDigits;
    const free = balances.get(asset) || "0";
    available.textContent = `Available: ${fmt(free, digits)} ${asset}`;
    const p = parse(price.value);
    const q = parse(quantity.value);
    if (type !== "MARKET" && p && q && !isZero(p) && !isZero(q)) {
      total.textContent = `Total: ${fmt(toFixed(mul(p, q), sym.quoteDigits), sym.priceDigits)} ${sym.quote}`;
    } else {
      total.textContent = "";
    }
  }

  price.addEventListener("input", refresh);
  quantity.addEventListener("input", refresh);
  marketBy.addEventListener("change", refresh);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const order = { type, price: price.value.trim(), quantity: quantity.value.trim() };
    if (byQuote()) order.quoteOrderQty = quantity.value.trim();
    const problems = checkOrder(sym, order, lastPrice());
    if (problems.length) {
      say(problems.join(" "), "error");
      return;
    }
    const params = { symbol: sym.symbol, side, type };
    if (byQuote()) params.quoteOrderQty = toPlain(parse(order.quoteOrderQty));
    else params.quantity = toPlain(parse(order.quantity));
    if (type !== "MARKET") params.price = toPlain(parse(order.price));
    if (type === "LIMIT") params.timeInForce = tif.value;
    submit.disabled = true;
    say("Sending…", "pending");
    try {
      const placed = await trading.place(params);
      const filled = fmt(placed.executedQty, sym.qtyDigits);
      say(
        `Order ${placed.orderId} ${placed.status.toLowerCase().replace("_", " ")}` +
          (isZero(parse(placed.executedQty)) ? "." : `: ${filled} ${sym.base} filled.`),
        "ok",
      );
      onPlaced(placed);
    } catch (error) {
      // The exchange's own words: the reason it refused.
      say(error.message, "error");
    } finally {
      submit.disabled = false;
    }
  });

  setSide("BUY");
  setType("LIMIT");
  return {
    setBalances(map) {
      balances = map;
      refresh();
    },
    setPrice(value) {
      if (type === "MARKET") setType("LIMIT");
      price.value = toPlain(parse(toFixed(parse(value), sym.priceDigits)));
      refresh();
      quantity.focus();
    },
    clearMessage() {
      replace(message);
    },
  };
}
