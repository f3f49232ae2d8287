import { expect, test } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';

test.each([
  { input: { source: 'config.json', reason: 'file not found' }, expected: 'config.json: file not found', why: 'whole-file problem' },
  {
    input: { source: 'config.json', reason: 'expected a number, got "abc"', path: 'services.todo.call_timeout' },
    expected: 'config.json: services.todo.call_timeout: expected a number, got "abc"',
    why: 'schema problem names the key path',
  },
  { input: { source: 'c.json', reason: 'invalid JSON: line one\n  line two' }, expected: 'c.json: invalid JSON: line one line two', why: 'always one line' },
])('ConfigError message: $why (§2)', ({ input, expected }) => {
  const error = new ConfigError(input.source, input.reason, input.path);
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('ConfigError');
  expect(error.message).toBe(expected);
  expect({ source: error.source, reason: error.reason, path: error.path }).toEqual(input);
});
