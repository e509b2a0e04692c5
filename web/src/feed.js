// Live market data for the whole app, behind one interface: subscribe to a
// Binance stream name, get Binance stream payloads.
//
//   <symbol>@depth20@100ms   {lastUpdateId, bids, asks}
//   <symbol>@trade           {e:"trade", s, t, p, q, T, m}
//   <symbol>@kline_<i>       {e:"kline", s, k:{t, T, i, o, h, l, c, v, q, n, x}}
//   <symbol>@ticker          {e:"24hrTicker", s, c, o, h, l, p, P, v, q, ...}
//
// Where they come from is this module's business. It opens the exchange's
// combined stream (`/stream?streams=a/b`) and, for as long as that is not
// answering, polls the REST API and turns the answers into the same payloads. A
// closed socket (network, server restart) falls back to polling at once and is
// reopened with a growing delay; subscriptions follow over SUBSCRIBE/UNSUBSCRIBE.

import { market } from "./api.js";

const handlers = new Map(); // stream name -> Set of handlers
const latest = new Map(); // snapshot stream name -> its last payload
const pollers = new Map(); // stream name -> {timer, state}
const modeListeners = new Set();
let socket = null;
let socketOpen = false;
let retryDelay = 1000;
let retryTimer = null;
let requestId = 0;
let mode = "connecting";

const RETRY_MAX_MS = 60000;
const POLL_MS = { depth: 1000, trade: 1000, kline: 2000, ticker: 2000 };

export function subscribe(stream, handler) {
  let set = handlers.get(stream);
  if (!set) {
    set = new Set();
    handlers.set(stream, set);
    if (socketOpen) control("SUBSCRIBE", [stream]);
    else startPolling(stream);
  }
  set.add(handler);
  // A snapshot stream (book, ticker) hands a late subscriber the last payload.
  if (latest.has(stream)) {
    const payload = latest.get(stream);
    queueMicrotask(() => set.has(handler) && handler(payload));
  }
  connect();
  return () => {
    set.delete(handler);
    if (set.size === 0) {
      handlers.delete(stream);
      latest.delete(stream);
      stopPolling(stream);
      if (socketOpen) control("UNSUBSCRIBE", [stream]);
    }
  };
}

/** Whether the stream's payloads come from polling, which starts with history. */
export function polling(stream) {
  return pollers.has(stream);
}

/** Poll these streams now (after the user's own order, say); no-op on streams. */
export function poke(...streams) {
  for (const stream of streams) {
    const poller = pollers.get(stream);
    if (poller) runPoll(stream, poller);
  }
}

export function onMode(fn) {
  modeListeners.add(fn);
  fn(mode);
  return () => modeListeners.delete(fn);
}

function setMode(next) {
  if (mode === next) return;
  mode = next;
  for (const fn of modeListeners) fn(mode);
}

function isSnapshot(stream) {
  return stream.includes("@depth") || stream.endsWith("@ticker");
}

function dispatch(stream, data) {
  const set = handlers.get(stream);
  if (!set) return;
  if (isSnapshot(stream)) latest.set(stream, data);
  for (const fn of set) {
    try {
      fn(data);
    } catch (error) {
      console.error(error);
    }
  }
}

// --- The WebSocket streams ---------------------------------------------------

function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const names = [...handlers.keys()];
  const query = names.length ? `?streams=${names.join("/")}` : "";
  return `${scheme}://${location.host}/stream${query}`;
}

function connect() {
  if (socket || retryTimer || typeof WebSocket === "undefined") return;
  let ws;
  try {
    ws = new WebSocket(streamUrl());
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  ws.onopen = () => {
    socketOpen = true;
    retryDelay = 1000;
    // Streams subscribed between the URL being built and now.
    const pending = [...handlers.keys()].filter((s) => !ws.url.includes(s));
    if (pending.length) control("SUBSCRIBE", pending);
    for (const stream of [...pollers.keys()]) stopPolling(stream);
    setMode("stream");
  };
  ws.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message && typeof message.stream === "string") {
      dispatch(message.stream, message.data);
    }
  };
  ws.onclose = () => {
    socket = null;
    const wasOpen = socketOpen;
    socketOpen = false;
    for (const stream of handlers.keys()) startPolling(stream);
    setMode(wasOpen ? "reconnecting" : "poll");
    scheduleReconnect();
  };
}

function scheduleReconnect() {
  if (retryTimer) return;
  const jitter = Math.random() * 0.3 * retryDelay;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    connect();
  }, retryDelay + jitter);
  retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
}

function control(method, params) {
  if (!socket || !socketOpen) return;
  requestId += 1;
  socket.send(JSON.stringify({ method, params, id: requestId }));
}

// --- Polling the REST API ------------------------------------------------------

function parseStream(stream) {
  const [lower, kind] = stream.split("@");
  const symbol = lower.toUpperCase();
  if (kind.startsWith("depth")) return { kind: "depth", symbol };
  if (kind === "trade") return { kind: "trade", symbol };
  if (kind === "ticker") return { kind: "ticker", symbol };
  if (kind.startsWith("kline_")) {
    return { kind: "kline", symbol, interval: kind.slice("kline_".length) };
  }
  return null;
}

function startPolling(stream) {
  if (pollers.has(stream) || !handlers.has(stream)) return;
  const spec = parseStream(stream);
  if (!spec) return;
  const poller = { spec, timer: null, busy: false, lastTradeId: -1 };
  pollers.set(stream, poller);
  const every = spec.interval === "1s" ? 1000 : POLL_MS[spec.kind];
  poller.timer = setInterval(() => runPoll(stream, poller), every);
  runPoll(stream, poller);
}

function stopPolling(stream) {
  const poller = pollers.get(stream);
  if (!poller) return;
  clearInterval(poller.timer);
  pollers.delete(stream);
}

async function runPoll(stream, poller) {
  if (poller.busy || document.hidden) return;
  poller.busy = true;
  const { spec } = poller;
  try {
    if (spec.kind === "depth") {
      dispatch(stream, await market.depth(spec.symbol, 20));
    } else if (spec.kind === "trade") {
      const trades = await market.trades(spec.symbol, 50);
      for (const t of trades) {
        if (t.id <= poller.lastTradeId) continue;
        poller.lastTradeId = t.id;
        dispatch(stream, tradeEvent(spec.symbol, t));
      }
    } else if (spec.kind === "kline") {
      const rows = await market.klines(spec.symbol, spec.interval, 2);
      for (const row of rows) {
        dispatch(stream, klineEvent(spec.symbol, spec.interval, row));
      }
    } else if (spec.kind === "ticker") {
      dispatch(stream, tickerEvent(await market.ticker24h(spec.symbol)));
    }
    if (mode !== "stream" && mode !== "poll") setMode("poll");
  } catch {
    if (mode !== "stream") setMode("offline");
  } finally {
    poller.busy = false;
  }
}

function tradeEvent(symbol, t) {
  return {
    e: "trade",
    E: Date.now(),
    s: symbol,
    t: t.id,
    p: t.price,
    q: t.qty,
    T: t.time,
    m: t.isBuyerMaker,
    M: true,
  };
}

function klineEvent(symbol, interval, row) {
  return {
    e: "kline",
    E: Date.now(),
    s: symbol,
    k: {
      t: row[0],
      T: row[6],
      s: symbol,
      i: interval,
      o: row[1],
      h: row[2],
      l: row[3],
      c: row[4],
      v: row[5],
      q: row[7],
      n: row[8],
      x: row[6] < Date.now(),
    },
  };
}

function tickerEvent(t) {
  return {
    e: "24hrTicker",
    E: Date.now(),
    s: t.symbol,
    p: t.priceChange,
    P: t.priceChangePercent,
    w: t.weightedAvgPrice,
    c: t.lastPrice,
    Q: t.lastQty,
    b: t.bidPrice,
    a: t.askPrice,
    o: t.openPrice,
    h: t.highPrice,
    l: t.lowPrice,
    v: t.volume,
    q: t.quoteVolume,
    n: t.count,
  };
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  for (const [stream, poller] of pollers) runPoll(stream, poller);
});
