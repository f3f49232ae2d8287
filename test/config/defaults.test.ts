import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { describe, expect, test } from 'vitest';
import { embeddedDefaultConfig } from '../../src/config/defaults.js';

describe('embedded default config (§2)', () => {
  test('binds loopback on 8100 with the demo to-do service started by this Node binary (§2)', () => {
    const config = embeddedDefaultConfig({});
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8100, auth_user: 'admin', auth_password: 'changeme' });
    expect(Object.keys(config.services)).toEqual(['todo']);
    const [program, script] = config.services.todo?.command ?? [];
    expect(program).toBe(process.execPath);
    expect(isAbsolute(script ?? '')).toBe(true);
    expect(script).toMatch(/[/\\]demo[/\\]todo-server\.js$/);
    expect(existsSync(script ?? '')).toBe(true);
    expect(config.services.todo?.description).toBe('Demo to-do list (bundled)');
    expect(config.rate_limiting.call_limit.map((l) => l.text)).toEqual(['10 per 1 minute']);
  });

  test('MCP_* variables override host, port and credentials (§2, §3)', () => {
    const env = { MCP_HOST: '0.0.0.0', MCP_PORT: '9100', MCP_AUTH_USER: 'ops', MCP_AUTH_PASSWORD: '12345678' };
    expect(embeddedDefaultConfig(env).server).toMatchObject({ host: '0.0.0.0', port: 9100, auth_user: 'ops', auth_password: '12345678' });
  });

  test('an invalid MCP_PORT is reported against the embedded default (§2)', () => {
    expect(() => embeddedDefaultConfig({ MCP_PORT: 'http' })).toThrow('embedded default: server.port: expected a number, got "http"');
  });
});
