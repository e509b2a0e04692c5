// Exact decimal arithmetic on the exchange's decimal strings, with BigInt.
// A value is {n: BigInt, s: scale}: n / 10^s. Never a float for money.

const RE = /^\s*(-?)(\d*)(?:\.(\d*))?\s*$/;

export function parse(text) {
  const m = RE.exec(String(text ?? ""));
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const frac = m[3] ?? "";
  const n = BigInt((m[2] || "0") + frac);
  return { n: m[1] ? -n : n, s: frac.length };
}

function rescale(a, s) {
  return a.s === s ? a.n : a.n * 10n ** BigInt(s - a.s);
}

export function cmp(a, b) {
  const s = Math.max(a.s, b.s);
  const x = rescale(a, s);
  const y = rescale(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function mul(a, b) {
  return { n: a.n * b.n, s: a.s + b.s };
}

export function add(a, b) {
  const s = Math.max(a.s, b.s);
  return { n: rescale(a, s) + rescale(b, s), s };
}

export function isZero(a) {
  return a.n === 0n;
}

/** True when a is a whole multiple of step (step > 0). */
export function isMultiple(a, step) {
  const s = Math.max(a.s, step.s);
  return rescale(a, s) % rescale(step, s) === 0n;
}

/** Number of decimals a step such as "0.01000000" allows (2). */
export function decimalsOf(step) {
  const m = RE.exec(String(step));
  if (!m) return 8;
  const frac = (m[3] ?? "").replace(/0+$/, "");
  return frac.length;
}

/** a as a string with exactly `digits` decimals, truncated toward zero. */
export function toFixed(a, digits) {
  const neg = a.n < 0n;
  let n = neg ? -a.n : a.n;
  if (a.s > digits) n /= 10n ** BigInt(a.s - digits);
  else n *= 10n ** BigInt(digits - a.s);
  let text = n.toString().padStart(digits + 1, "0");
  if (digits > 0) text = `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return (neg && n !== 0n ? "-" : "") + text;
}

/** Format an API decimal string to `digits` decimals with thousands separators. */
export function fmt(text, digits) {
  const a = parse(text);
  if (!a) return "";
  const fixed = toFixed(a, digits);
  const [int, frac] = fixed.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** Plain string of a, without trailing zeros, for sending to the API. */
export function toPlain(a) {
  const text = toFixed(a, a.s);
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}
