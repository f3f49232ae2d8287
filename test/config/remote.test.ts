import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const SERVER = { auth_token: 'test-token' };

function parse(service: Record<string, unknown>, env: Record<string, string> = {}) {
  const warnings: string[] = [];
  const config = parseConfig({ server: SERVER, services: { hosted: service } }, {
    env,
    source: 'test',
    onWarning: (message, path) => void warnings.push(`${path}: ${message}`),
  });
  return { service: config.services['hosted']!, warnings };
}

const failure = (service: Record<string, unknown>): string => {
  try {
    parse(service);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the config to be refused');
};

describe('remote services (SPEC §13)', () => {
  test('url instead of command; headers take ${VAR} secrets; transport defaults to auto', () => {
    const { service, warnings } = parse(
      { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${HOSTED_TOKEN}' } },
      { HOSTED_TOKEN: 's3cret' },
    );
    expect(service).toMatchObject({ url: 'https://mcp.example.com/mcp', command: [], headers: { Authorization: 'Bearer s3cret' }, transport: 'auto' });
    expect(warnings).toEqual([]);
  });

  test('a service is a command or a url, not both, and not neither', () => {
    expect(failure({ url: 'http://127.0.0.1:1/mcp', command: ['node'] })).toMatch(/services\.hosted\.url: a service is either a command or a url, not both/);
    expect(failure({})).toMatch(/services\.hosted\.command: .*or a url/);
  });

  test('a bad url or transport is refused without quoting the url back', () => {
    const message = failure({ url: 'ftp://host/mcp?key=s3cret' });
    expect(message).toMatch(/services\.hosted\.url: expected an http:\/\/ or https:\/\/ URL/);
    expect(message).not.toContain('s3cret');
    expect(failure({ url: 'http://h/mcp', transport: 'websocket' })).toMatch(/services\.hosted\.transport: expected one of "streamable-http", "sse", "auto"/);
    expect(failure({ url: 'http://h/mcp', headers: { 'Bad Header': 'x' } })).toMatch(/expected an HTTP header name/);
  });

  test('sandbox and env do not apply to a remote service: a warning each', () => {
    const { warnings } = parse({ url: 'http://h/mcp', sandbox: { enabled: true }, env: { A: 'b' } });
    expect(warnings).toEqual([
      'services.hosted.sandbox: sandbox does not apply to a remote service (url) and is ignored',
      'services.hosted.env: env does not apply to a remote service (url) and is ignored',
    ]);
  });
});
