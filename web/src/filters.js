// The symbol's filters, checked before an order is sent, in the exchange's words
// (-1013 "Filter failure: ...") with what would pass.

import { cmp, isMultiple, isZero, mul, parse } from "./decimal.js";

function positive(text) {
  const value = parse(text);
  return value && !isZero(value) ? value : null;
}

/**
 * Problems with an order, as a list of messages (empty when it may be sent).
 * `order` holds the form's strings: type, price, quantity, quoteOrderQty.
 * MARKET orders are checked against the last price only for the notional,
 * when the filter applies to them and a last price is known.
 */
export function checkOrder(sym, order, lastPrice) {
  const problems = [];
  if (sym.status !== "TRADING") {
    problems.push(`${sym.symbol} is not trading now (${sym.status}).`);
    return problems;
  }
  const isMarket = order.type === "MARKET";
  let price = null;
  if (!isMarket) {
    price = parse(order.price);
    if (!price || isZero(price)) {
      problems.push("Enter a price.");
      return problems;
    }
    const { minPrice, maxPrice, tickSize } = sym.price;
    const min = positive(minPrice);
    const max = positive(maxPrice);
    const tick = positive(tickSize);
    if (min && cmp(price, min) < 0) {
      problems.push(`Filter failure: PRICE_FILTER (price below ${minPrice}).`);
    } else if (max && cmp(price, max) > 0) {
      problems.push(`Filter failure: PRICE_FILTER (price above ${maxPrice}).`);
    } else if (tick && !isMultiple(price, tick)) {
      problems.push(
        `Filter failure: PRICE_FILTER (price must be a multiple of ${tickSize}).`,
      );
    }
  }
  if (isMarket && order.quoteOrderQty !== undefined) {
    const total = parse(order.quoteOrderQty);
    if (!total || isZero(total)) problems.push("Enter a total.");
    return problems;
  }
  const qty = parse(order.quantity);
  if (!qty || isZero(qty)) {
    problems.push("Enter an amount.");
    return problems;
  }
  const lot = isMarket ? sym.marketLot : sym.lot;
  const lotName = isMarket && sym.marketLot !== sym.lot ? "MARKET_LOT_SIZE" : "LOT_SIZE";
  const minQty = positive(lot.minQty);
  const maxQty = positive(lot.maxQty);
  const step = positive(lot.stepSize);
  if (minQty && cmp(qty, minQty) < 0) {
    problems.push(`Filter failure: ${lotName} (amount below ${lot.minQty}).`);
  } else if (maxQty && cmp(qty, maxQty) > 0) {
    problems.push(`Filter failure: ${lotName} (amount above ${lot.maxQty}).`);
  } else if (step && !isMultiple(qty, step)) {
    problems.push(
      `Filter failure: ${lotName} (amount must be a multiple of ${lot.stepSize}).`,
    );
  }
  const notional = sym.notional || {};
  const reference = isMarket ? parse(lastPrice) : price;
  if (reference && !isZero(reference) && notional.filterType) {
    const value = mul(reference, qty);
    const min = positive(notional.minNotional);
    const max = positive(notional.maxNotional);
    const minApplies = !isMarket || notional.applyMinToMarket !== false;
    const maxApplies = !isMarket || notional.applyMaxToMarket !== false;
    const name = notional.filterType;
    if (min && minApplies && cmp(value, min) < 0) {
      problems.push(`Filter failure: ${name} (total below ${notional.minNotional}).`);
    } else if (max && maxApplies && cmp(value, max) > 0) {
      problems.push(`Filter failure: ${name} (total above ${notional.maxNotional}).`);
    }
  }
  return problems;
}
