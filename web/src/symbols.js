// The symbols and their filters, from exchangeInfo, loaded once per page load.

import { market } from "./api.js";
import { decimalsOf } from "./decimal.js";

let loading = null;

function filter(info, type) {
  return info.filters.find((f) => f.filterType === type) || {};
}

function describe(info) {
  const price = filter(info, "PRICE_FILTER");
  const lot = filter(info, "LOT_SIZE");
  const marketLot = filter(info, "MARKET_LOT_SIZE");
  const notional = filter(info, "NOTIONAL");
  const minNotional = filter(info, "MIN_NOTIONAL");
  return {
    symbol: info.symbol,
    status: info.status,
    base: info.baseAsset,
    quote: info.quoteAsset,
    orderTypes: info.orderTypes,
    quoteOrderQtyMarketAllowed: info.quoteOrderQtyMarketAllowed,
    price,
    lot,
    marketLot: marketLot.stepSize ? marketLot : lot,
    notional: notional.filterType ? notional : minNotional,
    priceDigits: price.tickSize ? decimalsOf(price.tickSize) : 8,
    qtyDigits: lot.stepSize ? decimalsOf(lot.stepSize) : 8,
    quoteDigits: info.quoteAssetPrecision ?? 8,
  };
}

/** Map of symbol name -> description; the same promise for every caller. */
export function loadSymbols() {
  if (!loading) {
    loading = market.exchangeInfo().then(
      (data) => new Map(data.symbols.map((s) => [s.symbol, describe(s)])),
      (error) => {
        loading = null;
        throw error;
      },
    );
  }
  return loading;
}
