// The trading screen of one symbol: ticker, order book, recent trades, chart,
// order form, the user's orders and balances.

import { market } from "../api.js";
import { cmp, fmt, parse } from "../decimal.js";
import { h, navigate, replace } from "../dom.js";
import { poke, subscribe } from "../feed.js";
import { loadSymbols } from "../symbols.js";
import { mountAccountPanels } from "../trade/account.js";
import { mountBook, mountTrades } from "../trade/book.js";
import { chosenInterval, mountChart } from "../trade/chart.js";
import { mountForm } from "../trade/form.js";

function stat(label, id) {
  const value = h("span", { class: "value", id });
  return { el: h("div", { class: "stat" }, h("span", { class: "label", text: label }), value), value };
}

export function mountTrade(main, rawSymbol) {
  const symbol = rawSymbol.toUpperCase();
  const stops = [];
  let alive = true;
  main.className = "trade-page";
  main.append(h("p", { class: "loading", text: "Loading…" }));

  // The book, the ticker and the candles are asked for together with
  // exchangeInfo rather than after it: the panels take them when they are built.
  const lower = symbol.toLowerCase();
  const idle = () => {};
  stops.push(subscribe(`${lower}@depth20@100ms`, idle), subscribe(`${lower}@ticker`, idle));
  const interval = chosenInterval();
  const candles = { interval, rows: market.klines(symbol, interval, 500).catch(() => null) };

  loadSymbols()
    .then((symbols) => {
      if (!alive) return;
      const sym = symbols.get(symbol);
      replace(main);
      if (!sym) {
        for (const stop of stops.splice(0)) stop();
        main.append(h("p", { class: "notice", text: `There is no market ${symbol}.` }));
        return;
      }
      if (rawSymbol !== symbol) history.replaceState(null, "", `/trade/${symbol}`);
      document.title = `${sym.base}/${sym.quote} · Exchange`;
      build(main, sym, symbols, stops, candles);
    })
    .catch((error) => {
      replace(main, h("p", { class: "error", text: error.message }));
    });

  return () => {
    alive = false;
    for (const stop of stops) stop();
    document.title = "Exchange";
  };
}

function build(main, sym, symbols, stops, candles) {
  const lower = sym.symbol.toLowerCase();
  const picker = h(
    "select",
    { id: "symbol-picker", "aria-label": "Market" },
    [...symbols.keys()].map((name) =>
      h("option", { value: name, text: `${symbols.get(name).base}/${symbols.get(name).quote}`, selected: name === sym.symbol }),
    ),
  );
  picker.addEventListener("change", () => navigate(`/trade/${picker.value}`));
  const last = stat("Last price", "ticker-last");
  const change = stat("24h change", "ticker-change");
  const high = stat("24h high", "ticker-high");
  const low = stat("24h low", "ticker-low");
  const volume = stat(`24h volume (${sym.base})`, "ticker-volume");
  const status = h("span", { class: "badge", id: "symbol-status", text: sym.status, hidden: sym.status === "TRADING" });

  const panels = {
    ticker: h("section", { class: "ticker-bar", "aria-label": "Ticker" }, picker, status, last.el, change.el, high.el, low.el, volume.el),
    book: h("section", { class: "panel book", id: "book" }),
    chart: h("section", { class: "panel chart", "aria-label": "Chart" }),
    trades: h("section", { class: "panel trades-panel" }),
    form: h("section", { class: "panel form-panel" }),
    balances: h("section", { class: "panel balances-panel" }),
    orders: h("section", { class: "panel orders-panel", "aria-label": "Your orders" }),
  };
  main.append(h("div", { class: "trade-grid" }, Object.values(panels)));

  let lastPrice = null;
  const form = mountForm(panels.form, sym, {
    lastPrice: () => lastPrice,
    onPlaced: () => {
      account.refresh();
      poke(`${lower}@depth20@100ms`, `${lower}@trade`, `${lower}@ticker`);
    },
  });
  const book = mountBook(panels.book, sym, { onPick: (price) => form.setPrice(price) });
  stops.push(book.stop);
  stops.push(
    mountTrades(panels.trades, sym, (t) => {
      const order = lastPrice ? cmp(parse(t.p), parse(lastPrice)) : 0;
      const direction = order > 0 ? "up" : order < 0 ? "down" : "";
      lastPrice = t.p;
      book.setLast(t.p, direction);
    }),
  );
  book.setLast(null, "");
  stops.push(mountChart(panels.chart, sym, candles));
  const account = mountAccountPanels(panels.orders, panels.balances, sym, {
    onBalances: (free) => form.setBalances(free),
    onChange: () => {
      account.refresh();
      poke(`${lower}@depth20@100ms`);
    },
  });
  stops.push(account.stop);

  stops.push(
    subscribe(`${lower}@ticker`, (t) => {
      const traded = t.n > 0;
      last.value.textContent = traded ? fmt(t.c, sym.priceDigits) : "–";
      const pct = Number.parseFloat(t.P || "0");
      change.value.textContent = `${pct > 0 ? "+" : ""}${pct.toFixed(2)}%`;
      change.value.className = `value ${pct > 0 ? "up" : pct < 0 ? "down" : ""}`;
      high.value.textContent = traded ? fmt(t.h, sym.priceDigits) : "–";
      low.value.textContent = traded ? fmt(t.l, sym.priceDigits) : "–";
      volume.value.textContent = fmt(t.v, sym.qtyDigits);
    }),
  );
  document.body.dataset.ready = sym.symbol;
  stops.push(() => delete document.body.dataset.ready);
}
