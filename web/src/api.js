// The exchange's public REST API, as any client calls it: /api/v1 for accounts
// (JSON), /api/v3 for market data and trading (Binance's form parameters), with
// `Authorization: Bearer <access JWT>`. Refusals come back as ApiError carrying
// the exchange's own code and msg.

import * as session from "./session.js";

export class ApiError extends Error {
  constructor(status, code, msg, tokenRefused = false) {
    super(msg);
    this.status = status;
    this.code = code;
    // The access token itself was refused (RFC 6750's `invalid_token`
    // challenge), as opposed to a wrong password or two-factor code.
    this.tokenRefused = tokenRefused;
  }
}

let refreshing = null;

async function refreshTokens() {
  // One refresh at a time: the refresh token rotates, a second use would fail.
  if (!refreshing) {
    const token = session.refreshToken();
    refreshing = (async () => {
      try {
        const pair = await send("POST", "/api/v1/auth/refresh", {
          json: { refresh: token },
        });
        session.rotate(pair);
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) session.end();
        return false;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

async function send(method, path, { query, form, json, auth = false } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") params.set(k, v);
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(form).toString();
  }
  if (auth) {
    const token = session.accessToken();
    if (!token) throw new ApiError(401, -2015, "Please log in.");
    headers.Authorization = `Bearer ${token}`;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body, credentials: "omit" });
  } catch {
    throw new ApiError(0, 0, "The exchange cannot be reached; retrying.");
  }
  if (response.status === 204 || response.status === 205) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const code = data && typeof data.code === "number" ? data.code : 0;
    const msg =
      data && typeof data.msg === "string"
        ? data.msg
        : `The exchange answered ${response.status}.`;
    const challenge = response.headers.get("WWW-Authenticate") || "";
    const tokenRefused = response.status === 401 && challenge.includes("invalid_token");
    throw new ApiError(response.status, code, msg, tokenRefused);
  }
  return data;
}

async function call(method, path, options = {}) {
  try {
    return await send(method, path, options);
  } catch (error) {
    // Only a refused token is worth a refresh: a wrong code sent again would
    // only count twice against the attempts allowed.
    const expired = options.auth && error instanceof ApiError && error.tokenRefused;
    if (expired && session.refreshToken() && (await refreshTokens())) {
      return send(method, path, options);
    }
    // A refused refresh token has already ended the session (refreshTokens);
    // an unreachable server keeps it for the next try.
    throw error;
  }
}

export const market = {
  exchangeInfo: () => call("GET", "/api/v3/exchangeInfo"),
  depth: (symbol, limit = 20) =>
    call("GET", "/api/v3/depth", { query: { symbol, limit } }),
  trades: (symbol, limit = 50) =>
    call("GET", "/api/v3/trades", { query: { symbol, limit } }),
  klines: (symbol, interval, limit = 500) =>
    call("GET", "/api/v3/klines", { query: { symbol, interval, limit } }),
  ticker24h: (symbol) =>
    call("GET", "/api/v3/ticker/24hr", { query: { symbol } }),
};

export const accounts = {
  register: (username, password, email) =>
    call("POST", "/api/v1/auth/register", { json: { username, password, email } }),
  // `extra` carries what a second login step asks for (see login.js).
  login: (username, password, extra = {}) =>
    call("POST", "/api/v1/auth/login", {
      json: { username, password, ...extra },
    }),
  logout: (refresh) =>
    call("POST", "/api/v1/auth/logout", { json: { refresh } }),
  me: () => call("GET", "/api/v1/me", { auth: true }),
  changePassword: (fields) =>
    call("POST", "/api/v1/me/password", { json: fields, auth: true }),
  apiKeys: () => call("GET", "/api/v1/api-keys", { auth: true }),
  createApiKey: (fields) =>
    call("POST", "/api/v1/api-keys", { json: fields, auth: true }),
  revokeApiKey: (id) =>
    call("DELETE", `/api/v1/api-keys/${encodeURIComponent(id)}`, { auth: true }),
  // Two-factor: enrol answers { secret, otpauthUri, qrSvg }; confirm and
  // recoveryCodes answer { recoveryCodes }, shown once.
  twoFactorEnrol: () => call("POST", "/api/v1/me/2fa/enrol", { auth: true }),
  twoFactorConfirm: (otp) =>
    call("POST", "/api/v1/me/2fa/confirm", { json: { otp }, auth: true }),
  twoFactorRecoveryCodes: (otp) =>
    call("POST", "/api/v1/me/2fa/recovery-codes", { json: { otp }, auth: true }),
  twoFactorDisable: (otp) =>
    call("POST", "/api/v1/me/2fa/disable", { json: { otp }, auth: true }),
};

export const trading = {
  place: (params) =>
    call("POST", "/api/v3/order", {
      form: { ...params, newOrderRespType: "FULL" },
      auth: true,
    }),
  cancel: (symbol, orderId) =>
    call("DELETE", "/api/v3/order", { query: { symbol, orderId }, auth: true }),
  openOrders: (symbol) =>
    call("GET", "/api/v3/openOrders", { query: { symbol }, auth: true }),
  allOrders: (symbol, limit = 50) =>
    call("GET", "/api/v3/allOrders", { query: { symbol, limit }, auth: true }),
  myTrades: (symbol, limit = 50) =>
    call("GET", "/api/v3/myTrades", { query: { symbol, limit }, auth: true }),
  account: () =>
    call("GET", "/api/v3/account", {
      query: { omitZeroBalances: "false" },
      auth: true,
    }),
};
