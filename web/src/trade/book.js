// The order book and the recent trades of one symbol, live from the feed.

import { add, fmt, mul, parse, toFixed } from "../decimal.js";
import { h, replace, time } from "../dom.js";
import { market } from "../api.js";
import { polling, subscribe } from "../feed.js";

const LEVELS = 12;

function bookRow(sym, side, [price, qty], cumulative, max, onPick) {
  const share = max > 0 ? Math.min(100, (cumulative / max) * 100) : 0;
  const row = h(
    "tr",
    { class: `level ${side}`, "data-price": price, title: "Use this price" },
    h("td", { class: "num price", text: fmt(price, sym.priceDigits) }),
    h("td", { class: "num", text: fmt(qty, sym.qtyDigits) }),
    h("td", {
      class: "num hide-narrow",
      text: fmt(toFixed(mul(parse(price), parse(qty)), sym.quoteDigits), sym.priceDigits),
    }),
  );
  // A CSSOM property, which the Content-Security-Policy allows (a style attribute
  // in markup it would not).
  row.style.setProperty("--depth", `${share.toFixed(1)}%`);
  row.addEventListener("click", () => onPick(price));
  return row;
}

function levelsTable(caption) {
  const body = h("tbody");
  return {
    body,
    el: h(
      "table",
      { class: "book-side" },
      h("caption", { class: "sr-only", text: caption }),
      body,
    ),
  };
}

export function mountBook(panel, sym, { onPick, onLast }) {
  const asks = levelsTable("Asks");
  const bids = levelsTable("Bids");
  const last = h("div", { class: "book-last", id: "book-last" });
  panel.append(
    h("h2", { text: "Order book" }),
    h(
      "table",
      { class: "book-head" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { class: "num", text: `Price (${sym.quote})` }),
          h("th", { class: "num", text: `Amount (${sym.base})` }),
          h("th", { class: "num hide-narrow", text: "Total" }),
        ),
      ),
    ),
    h("div", { class: "book-asks", id: "book-asks" }, asks.el),
    last,
    h("div", { class: "book-bids", id: "book-bids" }, bids.el),
  );

  function render(depth) {
    const askLevels = depth.asks.slice(0, LEVELS);
    const bidLevels = depth.bids.slice(0, LEVELS);
    const running = (levels) => {
      let total = parse("0");
      return levels.map(([, q]) => {
        total = add(total, parse(q));
        return Number(toFixed(total, 8));
      });
    };
    const askCum = running(askLevels);
    const bidCum = running(bidLevels);
    const max = Math.max(askCum.at(-1) || 0, bidCum.at(-1) || 0);
    replace(
      asks.body,
      askLevels
        .map((level, i) => bookRow(sym, "ask", level, askCum[i], max, onPick))
        .reverse(),
    );
    replace(
      bids.body,
      bidLevels.map((level, i) => bookRow(sym, "bid", level, bidCum[i], max, onPick)),
    );
    if (!askLevels.length && !bidLevels.length) {
      replace(bids.body, h("tr", {}, h("td", { class: "empty", colspan: "3", text: "The book is empty." })));
    }
  }

  const stop = subscribe(`${sym.symbol.toLowerCase()}@depth20@100ms`, render);
  return {
    setLast(price, direction) {
      replace(
        last,
        h("span", { class: `price ${direction}`, text: price ? fmt(price, sym.priceDigits) : "–" }),
        h("span", { class: "muted", text: ` ${sym.quote}` }),
      );
      if (onLast) onLast(price);
    },
    stop,
  };
}

export function mountTrades(panel, sym, onTrade) {
  const body = h("tbody");
  panel.append(
    h("h2", { text: "Recent trades" }),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "trades", id: "recent-trades" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { class: "num", text: `Price (${sym.quote})` }),
            h("th", { class: "num", text: `Amount (${sym.base})` }),
            h("th", { class: "num", text: "Time" }),
          ),
        ),
        body,
      ),
    ),
  );
  const seen = new Set();
  let newest = null;
  const empty = h("tr", {}, h("td", { class: "empty", colspan: "3", text: "No trades yet." }));
  body.append(empty);

  function onEvent(t) {
    if (seen.has(t.t)) return;
    seen.add(t.t);
    empty.remove();
    // The taker's side: a buyer who was the maker means the taker sold.
    const side = t.m ? "down" : "up";
    const row = h(
      "tr",
      { "data-trade-id": String(t.t) },
      h("td", { class: `num ${side}`, text: fmt(t.p, sym.priceDigits) }),
      h("td", { class: "num", text: fmt(t.q, sym.qtyDigits) }),
      h("td", { class: "num muted", text: time(t.T) }),
    );
    if (!newest || t.t > newest.t) {
      body.prepend(row);
      newest = t;
      onTrade(t);
    } else {
      body.append(row);
    }
    while (body.rows.length > 50) body.lastElementChild.remove();
  }
  const stream = `${sym.symbol.toLowerCase()}@trade`;
  const stop = subscribe(stream, onEvent);
  // History first when the feed only sends what happens from now on (streams);
  // polling's first answer is the history.
  if (!polling(stream)) {
    market
      .trades(sym.symbol, 50)
      .then((trades) => {
        for (const t of trades) {
          onEvent({ t: t.id, p: t.price, q: t.qty, T: t.time, m: t.isBuyerMaker });
        }
      })
      .catch(() => {});
  }
  return stop;
}
