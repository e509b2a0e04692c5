// The landing page: every market with its last price, 24 h change and volume, live.

import { fmt } from "../decimal.js";
import { h, table } from "../dom.js";
import { subscribe } from "../feed.js";
import { loadSymbols } from "../symbols.js";

export function mountMarkets(main) {
  const stops = [];
  const { el, body } = table(
    ["Pair", "Last price", "24h change", "24h high", "24h low", "24h volume"],
    "markets",
    [1, 2, 3, 4, 5],
  );
  // High and low give way on a phone, heading and cells alike.
  for (const th of [...el.tHead.rows[0].cells].slice(3, 5)) th.classList.add("hide-phone");
  main.append(
    h(
      "section",
      { class: "hero" },
      h("h1", { text: "Spot markets" }),
      h("p", {
        class: "muted",
        text: "Trade with limit, market and post-only orders. Prices update live.",
      }),
    ),
    h("section", { class: "panel" }, h("div", { class: "scroll" }, el)),
  );

  loadSymbols()
    .then((symbols) => {
      for (const sym of symbols.values()) {
        const cells = {
          last: h("td", { class: "num last" }),
          change: h("td", { class: "num change" }),
          high: h("td", { class: "num hide-phone" }),
          low: h("td", { class: "num hide-phone" }),
          volume: h("td", { class: "num volume" }),
        };
        const row = h(
          "tr",
          { id: `market-${sym.symbol}`, "data-symbol": sym.symbol },
          h(
            "th",
            { scope: "row" },
            h(
              "a",
              { href: `/trade/${sym.symbol}`, "data-link": true },
              h("strong", { text: sym.base }),
              h("span", { class: "muted", text: ` / ${sym.quote}` }),
            ),
          ),
          cells.last,
          cells.change,
          cells.high,
          cells.low,
          cells.volume,
        );
        body.append(row);
        const stream = `${sym.symbol.toLowerCase()}@ticker`;
        stops.push(
          subscribe(stream, (t) => {
            const traded = t.n > 0 || t.c !== "0.00000000";
            cells.last.textContent = traded ? fmt(t.c, sym.priceDigits) : "–";
            const pct = Number.parseFloat(t.P || "0");
            cells.change.textContent = `${pct > 0 ? "+" : ""}${pct.toFixed(2)}%`;
            cells.change.className = `num change ${pct > 0 ? "up" : pct < 0 ? "down" : ""}`;
            cells.high.textContent = traded ? fmt(t.h, sym.priceDigits) : "–";
            cells.low.textContent = traded ? fmt(t.l, sym.priceDigits) : "–";
            cells.volume.textContent = `${fmt(t.v, sym.qtyDigits)} ${sym.base}`;
          }),
        );
      }
    })
    .catch((error) => {
      main.append(h("p", { class: "error", text: error.message }));
    });
  return () => stops.forEach((stop) => stop());
}
