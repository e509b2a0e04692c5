// The candlestick chart (TradingView Lightweight Charts, self-hosted), with every
// interval Binance offers, live from the feed's kline stream.

import { market } from "../api.js";
import { decimalsOf } from "../decimal.js";
import { h } from "../dom.js";
import { subscribe } from "../feed.js";

export const INTERVALS = [
  "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
];

const dark = window.matchMedia("(prefers-color-scheme: dark)");
const INTERVAL_KEY = "exchange.interval";

/** The interval this tab last chose (1m at first). */
export function chosenInterval() {
  const saved = sessionStorage.getItem(INTERVAL_KEY);
  return INTERVALS.includes(saved) ? saved : "1m";
}

function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return { fg: v("--fg-muted"), bg: v("--panel"), grid: v("--grid"), up: v("--up"), down: v("--down") };
}

function chartOptions() {
  const p = palette();
  return {
    autoSize: true,
    layout: { background: { color: p.bg }, textColor: p.fg, attributionLogo: false },
    grid: { vertLines: { color: p.grid }, horzLines: { color: p.grid } },
    rightPriceScale: { borderColor: p.grid },
    timeScale: { borderColor: p.grid, timeVisible: true, secondsVisible: false },
    crosshair: { mode: 0 },
  };
}

function bar(k) {
  // Display values for the canvas; amounts stay strings everywhere else.
  return {
    time: Math.floor(k.t / 1000),
    open: Number(k.o),
    high: Number(k.h),
    low: Number(k.l),
    close: Number(k.c),
  };
}

/** `first`, when given, is {interval, rows: a promise of klines} already asked for. */
export function mountChart(panel, sym, first = null) {
  const LW = window.LightweightCharts;
  const buttons = new Map();
  const bar_ = h("div", { class: "intervals", role: "toolbar", "aria-label": "Interval" });
  const box = h("div", { class: "chart-box", id: "chart" });
  const empty = h("p", { class: "chart-empty muted", text: "No trades in this period yet." });
  panel.append(bar_, box, empty);
  for (const interval of INTERVALS) {
    const button = h("button", {
      type: "button",
      class: "interval",
      text: interval,
      "data-interval": interval,
      onclick: () => show(interval),
    });
    buttons.set(interval, button);
    bar_.append(button);
  }
  if (!LW) {
    empty.textContent = "The chart library did not load.";
    return () => {};
  }
  const chart = LW.createChart(box, chartOptions());
  const p = palette();
  const candles = chart.addSeries(LW.CandlestickSeries, {
    upColor: p.up,
    downColor: p.down,
    borderVisible: false,
    wickUpColor: p.up,
    wickDownColor: p.down,
    priceFormat: {
      type: "price",
      precision: sym.priceDigits,
      minMove: Number(sym.price.tickSize) || 10 ** -sym.priceDigits,
    },
  });
  const volume = chart.addSeries(LW.HistogramSeries, {
    priceScaleId: "",
    priceFormat: { type: "volume", precision: decimalsOf(sym.lot.stepSize || "0.00000001") },
    lastValueVisible: false,
    priceLineVisible: false,
  });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });

  let stop = null;
  let lastTime = 0;
  let current = null;
  let generation = 0;

  function volumeBar(k) {
    const up = Number(k.c) >= Number(k.o);
    const colors = palette();
    return {
      time: Math.floor(k.t / 1000),
      value: Number(k.v),
      color: `${up ? colors.up : colors.down}66`,
    };
  }

  function apply(k) {
    const b = bar(k);
    if (b.time < lastTime) return;
    lastTime = b.time;
    candles.update(b);
    volume.update(volumeBar(k));
    empty.hidden = true;
  }

  async function show(interval) {
    if (interval === current) return;
    current = interval;
    generation += 1;
    const mine = generation;
    for (const [name, button] of buttons) {
      button.classList.toggle("active", name === interval);
      button.setAttribute("aria-pressed", String(name === interval));
    }
    if (stop) stop();
    stop = null;
    let rows = null;
    if (first && first.interval === interval) rows = await first.rows;
    first = null;
    if (!rows) {
      try {
        rows = await market.klines(sym.symbol, interval, 500);
      } catch {
        rows = [];
      }
    }
    if (mine !== generation) return;
    const ks = rows.map((r) => ({ t: r[0], o: r[1], h: r[2], l: r[3], c: r[4], v: r[5] }));
    candles.setData(ks.map(bar));
    volume.setData(ks.map(volumeBar));
    lastTime = ks.length ? Math.floor(ks.at(-1).t / 1000) : 0;
    empty.hidden = ks.length > 0;
    chart.timeScale().applyOptions({ secondsVisible: interval === "1s" });
    // A short history fills the width; a long one opens on its latest part.
    if (ks.length && ks.length < 150) chart.timeScale().fitContent();
    else chart.timeScale().scrollToRealTime();
    stop = subscribe(`${sym.symbol.toLowerCase()}@kline_${interval}`, (event) => {
      if (mine === generation) apply(event.k);
    });
  }

  const retheme = () => {
    const colors = palette();
    chart.applyOptions(chartOptions());
    candles.applyOptions({
      upColor: colors.up,
      downColor: colors.down,
      wickUpColor: colors.up,
      wickDownColor: colors.down,
    });
  };
  dark.addEventListener("change", retheme);
  show(chosenInterval());
  for (const button of buttons.values()) {
    button.addEventListener("click", () =>
      sessionStorage.setItem(INTERVAL_KEY, button.dataset.interval),
    );
  }
  return () => {
    generation += 1;
    if (stop) stop();
    dark.removeEventListener("change", retheme);
    chart.remove();
  };
}
