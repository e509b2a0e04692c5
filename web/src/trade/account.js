// The signed-in user's side of the trading screen: open orders (with cancel),
// order history, trade history and balances, refreshed from the REST API.

import { trading } from "../api.js";
import { fmt, isZero, parse } from "../decimal.js";
import { h, replace, table, time } from "../dom.js";
import * as session from "../session.js";

const EVERY_MS = 2000;
const HISTORY_EVERY_MS = 6000;

function sideCell(side) {
  return h("td", { class: side === "BUY" ? "up" : "down", text: side === "BUY" ? "Buy" : "Sell" });
}

function typeName(type) {
  return { LIMIT: "Limit", MARKET: "Market", LIMIT_MAKER: "Post-only" }[type] || type;
}

function emptyRow(body, columns, text) {
  body.append(h("tr", {}, h("td", { class: "empty", colspan: String(columns), text })));
}

export function mountAccountPanels(ordersPanel, balancesPanel, sym, { onBalances, onChange }) {
  const tabs = [
    ["open", "Open orders"],
    ["history", "Order history"],
    ["trades", "Trade history"],
  ];
  const open = table(
    ["Time", "Side", "Type", "Price", "Amount", "Filled", ""],
    "orders",
    [3, 4, 5],
  );
  const history = table(
    ["Time", "Side", "Type", "Price", "Amount", "Filled", "Status"],
    "orders",
    [3, 4, 5],
  );
  const trades = table(["Time", "Side", "Price", "Amount", "Fee", "Role"], "orders", [2, 3, 4]);
  open.el.id = "open-orders";
  history.el.id = "order-history";
  trades.el.id = "my-trades";
  const views = { open: open.el, history: history.el, trades: trades.el };
  const counts = new Map();
  const tabBar = h("div", { class: "tabs", role: "tablist" });
  const body = h("div", { class: "scroll" });
  let active = "open";
  for (const [name, label] of tabs) {
    const count = h("span", { class: "count" });
    counts.set(name, count);
    tabBar.append(
      h("button", {
        type: "button",
        role: "tab",
        class: "tab",
        "data-tab": name,
        onclick: () => show(name),
      }, label, count),
    );
  }
  const message = h("p", { class: "message", id: "orders-message", role: "status" });
  ordersPanel.append(tabBar, message, body);

  const balanceTable = table(["Asset", "Available", "In orders"], "balances", [1, 2]);
  balanceTable.el.id = "balances";
  balancesPanel.append(h("h2", { text: "Balances" }), balanceTable.el);

  if (!session.signedIn()) {
    replace(body, h("p", { class: "muted", text: "Log in to see your orders and trades." }));
    replace(balancesPanel, h("h2", { text: "Balances" }), h("p", { class: "muted", text: "Log in to see your balances." }));
    return { refresh() {}, stop() {} };
  }

  function show(name) {
    active = name;
    for (const button of tabBar.children) {
      const on = button.dataset.tab === name;
      button.classList.toggle("active", on);
      button.setAttribute("aria-selected", String(on));
    }
    replace(body, views[name]);
    if (name !== "open") loadHistory();
  }

  async function cancel(order, button) {
    button.disabled = true;
    try {
      await trading.cancel(sym.symbol, order.orderId);
      message.textContent = `Order ${order.orderId} cancelled.`;
      message.className = "message ok";
      onChange();
    } catch (error) {
      message.textContent = error.message;
      message.className = "message error";
      button.disabled = false;
    }
  }

  function renderOpen(orders) {
    replace(open.body);
    counts.get("open").textContent = orders.length ? ` (${orders.length})` : "";
    if (!orders.length) emptyRow(open.body, 7, "No open orders.");
    for (const o of orders.sort((a, b) => b.time - a.time)) {
      const button = h("button", {
        type: "button",
        class: "link danger cancel",
        text: "Cancel",
        "aria-label": `Cancel order ${o.orderId}`,
      });
      button.addEventListener("click", () => cancel(o, button));
      open.body.append(
        h(
          "tr",
          { "data-order-id": String(o.orderId) },
          h("td", { class: "muted", text: time(o.time, true) }),
          sideCell(o.side),
          h("td", { text: typeName(o.type) }),
          h("td", { class: "num", text: fmt(o.price, sym.priceDigits) }),
          h("td", { class: "num", text: fmt(o.origQty, sym.qtyDigits) }),
          h("td", { class: "num filled", text: fmt(o.executedQty, sym.qtyDigits) }),
          h("td", {}, button),
        ),
      );
    }
  }

  function renderBalances(account) {
    const byAsset = new Map(account.balances.map((b) => [b.asset, b]));
    const free = new Map();
    replace(balanceTable.body);
    const assets = [sym.base, sym.quote, ...[...byAsset.keys()].filter((a) => a !== sym.base && a !== sym.quote).sort()];
    for (const asset of assets) {
      const b = byAsset.get(asset) || { free: "0", locked: "0" };
      free.set(asset, b.free);
      const digits = asset === sym.quote ? sym.priceDigits : 8;
      balanceTable.body.append(
        h(
          "tr",
          { "data-asset": asset },
          h("th", { scope: "row", text: asset }),
          h("td", { class: "num free", text: fmt(b.free, digits) }),
          h("td", { class: "num locked", text: fmt(b.locked, digits) }),
        ),
      );
    }
    onBalances(free);
  }

  async function loadHistory() {
    try {
      if (active === "history") {
        const orders = await trading.allOrders(sym.symbol, 50);
        replace(history.body);
        if (!orders.length) emptyRow(history.body, 7, "No orders yet.");
        for (const o of orders.sort((a, b) => b.time - a.time)) {
          const price = isZero(parse(o.price)) ? "Market" : fmt(o.price, sym.priceDigits);
          history.body.append(
            h(
              "tr",
              { "data-order-id": String(o.orderId) },
              h("td", { class: "muted", text: time(o.time, true) }),
              sideCell(o.side),
              h("td", { text: typeName(o.type) }),
              h("td", { class: "num", text: price }),
              h("td", { class: "num", text: fmt(o.origQty, sym.qtyDigits) }),
              h("td", { class: "num", text: fmt(o.executedQty, sym.qtyDigits) }),
              h("td", { class: "status", text: o.status }),
            ),
          );
        }
      } else if (active === "trades") {
        const mine = await trading.myTrades(sym.symbol, 50);
        replace(trades.body);
        if (!mine.length) emptyRow(trades.body, 6, "No trades yet.");
        for (const t of mine.sort((a, b) => b.time - a.time)) {
          trades.body.append(
            h(
              "tr",
              { "data-trade-id": String(t.id) },
              h("td", { class: "muted", text: time(t.time, true) }),
              sideCell(t.isBuyer ? "BUY" : "SELL"),
              h("td", { class: "num", text: fmt(t.price, sym.priceDigits) }),
              h("td", { class: "num", text: fmt(t.qty, sym.qtyDigits) }),
              h("td", { class: "num", text: `${fmt(t.commission, 8)} ${t.commissionAsset}` }),
              h("td", { text: t.isMaker ? "Maker" : "Taker" }),
            ),
          );
        }
      }
    } catch {
      // The next round tries again.
    }
  }

  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) {
      again = true;
      return;
    }
    if (document.hidden || !session.signedIn()) return;
    busy = true;
    try {
      const [orders, account] = await Promise.all([
        trading.openOrders(sym.symbol),
        trading.account(),
      ]);
      renderOpen(orders);
      renderBalances(account);
    } catch {
      // Shown as stale until the next round; an expired session ends in api.js.
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  show("open");
  refresh();
  const timer = setInterval(refresh, EVERY_MS);
  const historyTimer = setInterval(() => active !== "open" && loadHistory(), HISTORY_EVERY_MS);
  return {
    refresh: () => {
      refresh();
      loadHistory();
    },
    stop: () => {
      clearInterval(timer);
      clearInterval(historyTimer);
    },
  };
}
