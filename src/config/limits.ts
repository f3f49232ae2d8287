/**
 * The flask-limiter / `limits` rate-limit grammar (SPEC §8), ported from `limits/util.py` so that
 * every string the reference accepts is accepted here and everything else is refused.
 */
import type { LimitUnit, RateLimit } from './types.js';

const UNIT_MS: Record<LimitUnit, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  // `limits` TIME_TYPES: a month is 30 days and a year 360 days, not calendar units.
  month: 30 * 86_400_000,
  year: 360 * 86_400_000,
};

const ITEM = String.raw`\s*([0-9]+)\s*(?:/|\s*per\s*)\s*([0-9]+)?\s*(second|minute|hour|day|month|year)s?\s*`;
// `(?::?` keeps a typo in the reference's `(:?…)` group: it tolerates one ':' before a separator.
const WHOLE = new RegExp(String.raw`^${ITEM}(?::?[,;|]${ITEM})*$`, 'i');
const SINGLE = new RegExp(`^${ITEM}`, 'i');
const SEPARATOR = /[,;|]/;

/**
 * Parses one limit string ("10/hour;100/day") or a list of them into items, in the order given.
 * An empty (or blank) string means no limits.
 */
export function parseLimits(input: string | string[]): RateLimit[] {
  return typeof input === 'string' ? parseLimitString(input) : input.flatMap(parseLimitString);
}

function parseLimitString(text: string): RateLimit[] {
  if (text.trim() === '') return [];
  if (!WHOLE.test(text)) throw invalid(text);
  return text.split(SEPARATOR).map((item) => {
    const match = SINGLE.exec(item);
    if (match === null) throw invalid(text);
    const [, amountText = '', multiplesText, unitText = ''] = match;
    const amount = Number(amountText);
    // `multiples and int(multiples) or None`: absent or zero multiples mean one unit.
    const multiples = Number(multiplesText ?? '') || 1;
    const unit = unitText.toLowerCase() as LimitUnit;
    const windowMs = multiples * UNIT_MS[unit];
    // Python integers are unbounded; here a count or window past 2^53 would silently round.
    if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(windowMs)) throw invalid(text);
    return { amount, multiples, unit, windowMs, text: `${amount} per ${multiples} ${unit}` };
  });
}

function invalid(text: string): Error {
  return new Error(`couldn't parse rate limit string '${text}'`);
}
