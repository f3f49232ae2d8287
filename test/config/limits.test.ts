import { describe, expect, test } from 'vitest';
import { parseLimits } from '../../src/config/limits.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `[amount, multiples, unit]` triples, in the order the string gives them. */
type Item = [number, number, string];

describe('parseLimits accepts the flask-limiter grammar (§8)', () => {
  test.each<{ input: string | string[]; expected: Item[]; why: string }>([
    { input: '10 per hour', expected: [[10, 1, 'hour']], why: 'documented "N per unit"' },
    { input: '10/hour', expected: [[10, 1, 'hour']], why: 'documented "N/unit"' },
    { input: '10/hour;100/day;2000 per year', expected: [[10, 1, 'hour'], [100, 1, 'day'], [2000, 1, 'year']], why: 'documented ";" list, order kept' },
    { input: '100/day, 500/7days', expected: [[100, 1, 'day'], [500, 7, 'day']], why: 'documented "," list with multiples and plural' },
    { input: '1/second|5 per 2 minutes', expected: [[1, 1, 'second'], [5, 2, 'minute']], why: '"|" separator and "per M units"' },
    { input: '10 PER MINUTES', expected: [[10, 1, 'minute']], why: 'case-insensitive, plural' },
    { input: '10/ 1 hour', expected: [[10, 1, 'hour']], why: 'spaces around the multiples' },
    { input: '  10 per hour  ', expected: [[10, 1, 'hour']], why: 'surrounding whitespace' },
    { input: '10per minute', expected: [[10, 1, 'minute']], why: 'the reference regex makes the spaces around "per" optional' },
    { input: '3 per 0 minutes', expected: [[3, 1, 'minute']], why: '`multiples and int(multiples) or None`: zero multiples mean one' },
    { input: '010 per hour', expected: [[10, 1, 'hour']], why: 'leading zeros are digits' },
    { input: '0 per minute', expected: [[0, 1, 'minute']], why: 'the reference accepts a zero count' },
    { input: '10/hour:;5/day', expected: [[10, 1, 'hour'], [5, 1, 'day']], why: 'the reference tolerates one ":" before a separator (its "(:?" typo)' },
    { input: ['200 per day', '50 per hour'], expected: [[200, 1, 'day'], [50, 1, 'hour']], why: 'a list of strings, order kept' },
    { input: ['1/second;2/minute', '3/day'], expected: [[1, 1, 'second'], [2, 1, 'minute'], [3, 1, 'day']], why: 'a list whose items hold several limits' },
    { input: '', expected: [], why: 'empty means no limits' },
    { input: '   ', expected: [], why: 'blank means no limits, as "${LIMIT|}" would give' },
    { input: [], expected: [], why: 'an empty list means no limits' },
  ])('$input ($why)', ({ input, expected }) => {
    expect(parseLimits(input).map((l) => [l.amount, l.multiples, l.unit])).toEqual(expected);
  });
});

describe('parseLimits windows and canonical text (§8)', () => {
  test.each([
    { input: '1/second', expected: { windowMs: SECOND, text: '1 per 1 second' }, why: 'second' },
    { input: '10 per minute', expected: { windowMs: MINUTE, text: '10 per 1 minute' }, why: 'the 429 body text the reference prints' },
    { input: '5 per 2 hours', expected: { windowMs: 2 * HOUR, text: '5 per 2 hour' }, why: 'multiples × unit; text uses the singular' },
    { input: '500/7days', expected: { windowMs: 7 * DAY, text: '500 per 7 day' }, why: 'days' },
    { input: '1 per month', expected: { windowMs: 30 * DAY, text: '1 per 1 month' }, why: 'a month is 30 days in `limits`' },
    { input: '1 per year', expected: { windowMs: 360 * DAY, text: '1 per 1 year' }, why: 'a year is 360 days in `limits`' },
  ])('$input → $expected.text ($why)', ({ input, expected }) => {
    const [limit] = parseLimits(input);
    expect({ windowMs: limit?.windowMs, text: limit?.text }).toEqual(expected);
  });
});

describe('parseLimits rejects everything else (§8)', () => {
  test.each([
    { input: '5/sec', why: 'no abbreviations' },
    { input: '10 per min', why: 'no abbreviations' },
    { input: '10 per hr', why: 'no abbreviations' },
    { input: 'ten per minute', why: 'digits only' },
    { input: '10 per minute,', why: 'trailing separator' },
    { input: ',10 per minute', why: 'leading separator' },
    { input: '10/hour;;5/day', why: 'one separator between items' },
    { input: '10/hour 5/day', why: 'items need a separator' },
    { input: '1.5/second', why: 'integers only' },
    { input: '10/1.5 hours', why: 'integer multiples only' },
    { input: '-1/second', why: 'no sign' },
    { input: '10 per week', why: 'unknown unit' },
    { input: '10 per hourss', why: 'one plural "s"' },
    { input: '10 minutes', why: '"per" or "/" is required' },
    { input: '10 per', why: 'unit is required' },
    { input: 'per minute', why: 'count is required' },
    { input: '10', why: 'a bare number' },
    { input: '10/hour:', why: 'the tolerated ":" must precede a separator' },
    { input: '99999999999999999999 per second', why: 'a count past 2^53 cannot be held exactly' },
  ])('$input ($why)', ({ input }) => {
    expect(() => parseLimits(input)).toThrow(new Error(`couldn't parse rate limit string '${input}'`));
  });

  test('in a list, the error names the string that failed (§8)', () => {
    expect(() => parseLimits(['10/hour', '5/sec'])).toThrow("couldn't parse rate limit string '5/sec'");
  });
});
