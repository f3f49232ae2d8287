import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const EVERYTHING = fileURLToPath(new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url));

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ services: { everything: { command: [process.execPath, EVERYTHING, 'stdio'] } } });
});
afterAll(() => gw?.close());

describe('@modelcontextprotocol/server-everything as a service (§4.1)', () => {
  test('its tools are listed from the catalogue', async () => {
    const response = await gw.request('GET', '/services/everything/tools');
    const names = response.body.tools.map((tool: { name: string }) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-tiny-image', 'get-resource-links', 'get-resource-reference']));
  });

  test('text results', async () => {
    const response = await gw.call('everything', { tool: 'echo', session_id: 'ev', arguments: { message: 'hi there' } });
    expect(response.status).toBe(200);
    expect(response.body.result).toBe('Echo: hi there');
  });

  test('image results render as a short description; content keeps the data', async () => {
    const response = await gw.call('everything', { tool: 'get-tiny-image', session_id: 'ev' });
    expect(response.body.result).toMatch(/\[image: image\/png, [\d.]+ (B|kB)\]/);
    const image = response.body.content.find((block: { type: string }) => block.type === 'image');
    expect(image.data.length).toBeGreaterThan(10);
  });

  test('resource links and embedded resources render as the SPEC says', async () => {
    const links = await gw.call('everything', { tool: 'get-resource-links', session_id: 'ev', arguments: { count: 2 } });
    expect(links.body.result).toMatch(/\[resource: [^\]]+\]/);
    const embedded = await gw.call('everything', { tool: 'get-resource-reference', session_id: 'ev', arguments: { resourceType: 'Text', resourceId: 1 } });
    expect(embedded.status).toBe(200);
    expect(embedded.body.content.some((block: { type: string }) => block.type === 'resource')).toBe(true);
    expect(embedded.body.result).not.toContain('[resource:');
  });
});
