import { describe, expect, test } from 'vitest';
import { substituteEnv, substituteEnvDeep } from '../../src/config/env.js';

const env = { HOST: 'gw.example.com', PORT: '8443', EMPTY: '', NESTED: '${HOST}' };

describe('substituteEnv (§3)', () => {
  test.each([
    { input: '${HOST}', expected: 'gw.example.com', why: 'a set variable replaces the reference' },
    { input: '${MISSING|fallback}', expected: 'fallback', why: 'an unset variable takes the default' },
    { input: '${MISSING}', expected: '', why: 'unset without a default becomes the empty string' },
    { input: '${HOST|other}', expected: 'gw.example.com', why: 'the variable wins over the default' },
    { input: '${EMPTY|fallback}', expected: '', why: 'a variable set to "" is set, as os.environ.get treats it' },
    { input: '${MISSING|}', expected: '', why: 'an empty default is allowed' },
    { input: 'https://${HOST}:${PORT}/x', expected: 'https://gw.example.com:8443/x', why: 'several references in one string' },
    { input: '${A|1}${B|2}', expected: '12', why: 'adjacent references' },
    { input: '${MISSING|redis://h:6379/0}', expected: 'redis://h:6379/0', why: 'a default may hold ":" and "/"' },
    { input: '${MISSING|a|b}', expected: 'a|b', why: 'the default runs to the closing brace, "|" included' },
    { input: '${MISSING|two words}', expected: 'two words', why: 'a default may hold spaces' },
    { input: '${NESTED}', expected: '${HOST}', why: 'substituted text is not substituted again' },
    { input: 'plain', expected: 'plain', why: 'no reference, no change' },
    { input: '$HOST', expected: '$HOST', why: 'only the braced form is a reference' },
    { input: 'pa${ss', expected: 'pa${ss', why: 'an unclosed "${" in a password stays literal' },
    { input: '${}', expected: '${}', why: 'no name, no reference' },
    { input: '${1ABC}', expected: '${1ABC}', why: 'names are identifiers, so odd text is left alone' },
    { input: '${MCP_PORT|8100}', expected: '8100', why: 'the env-heavy fixture form; still a string here' },
  ])('$input → $expected ($why)', ({ input, expected }) => {
    expect(substituteEnv(input, env)).toBe(expected);
  });
});

describe('substituteEnvDeep (§3)', () => {
  test('every string in the tree is substituted; keys and other values are kept (§3)', () => {
    const raw = { '${HOST}': 1, server: { host: '${HOST}', port: 8080, tls: false, token: null }, list: ['${PORT}', 2] };
    expect(substituteEnvDeep(raw, env)).toEqual({
      '${HOST}': 1,
      server: { host: 'gw.example.com', port: 8080, tls: false, token: null },
      list: ['8443', 2],
    });
  });

  test('the input tree is not modified (§3)', () => {
    const raw = { server: { host: '${HOST}' } };
    substituteEnvDeep(raw, env);
    expect(raw.server.host).toBe('${HOST}');
  });
});
