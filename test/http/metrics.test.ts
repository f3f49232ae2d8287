import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureService, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Prometheus text → `name{label="value",...}` → value, labels in the order prom-client prints them. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

describe('GET /metrics (SPEC §15)', () => {
  let gw: TestGateway;
  const scrape = async (): Promise<{ text: string; samples: Map<string, number> }> => {
    const response = await gw.request('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return { text: response.body as string, samples: parseMetrics(response.body as string) };
  };

  beforeAll(async () => {
    gw = await startTestGateway({ services: { fx: fixtureService() } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  test('needs the API credentials', async () => {
    const response = await fetch(`${gw.url}/metrics`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  test('counts calls by tool and outcome, their durations, sessions, session starts and HTTP responses by route', async () => {
    const before = await scrape();
    const value = (samples: Map<string, number>, key: string): number => samples.get(key) ?? 0;
    const delta = (after: Map<string, number>, key: string): number => value(after, key) - value(before.samples, key);

    for (let i = 0; i < 3; i += 1) expect((await gw.call('fx', { tool: 'echo', session_id: 'm1', arguments: { text: `hi ${i}` } })).status).toBe(200);
    const toolError = await gw.call('fx', { tool: 'fail', session_id: 'm1' });
    expect(toolError.body.is_error).toBe(true);
    expect((await gw.call('fx', { tool: 'no_such_tool', session_id: 'm1' })).status).toBe(404);
    expect((await fetch(`${gw.url}/no/such/path`)).status).toBe(404);

    const after = await scrape();
    expect(delta(after.samples, 'mcp_gateway_tool_calls_total{service="fx",tool="echo",outcome="ok"}')).toBe(3);
    expect(delta(after.samples, 'mcp_gateway_tool_calls_total{service="fx",tool="fail",outcome="tool_error"}')).toBe(1);
    // A name the catalogue does not know folds into one label value: labels stay bounded.
    expect(delta(after.samples, 'mcp_gateway_tool_calls_total{service="fx",tool="other",outcome="unknown_tool"}')).toBe(1);
    expect(after.text).not.toContain('no_such_tool');

    expect(delta(after.samples, 'mcp_gateway_tool_call_duration_seconds_count{service="fx"}')).toBe(5);
    expect(delta(after.samples, 'mcp_gateway_tool_call_duration_seconds_bucket{le="+Inf",service="fx"}')).toBe(5);
    expect(delta(after.samples, 'mcp_gateway_tool_call_duration_seconds_sum{service="fx"}')).toBeGreaterThan(0);
    expect(after.samples.has('mcp_gateway_tool_call_duration_seconds_bucket{le="0.1",service="fx"}')).toBe(true);

    expect(value(after.samples, 'mcp_gateway_sessions{service="fx"}')).toBe(1);
    expect(delta(after.samples, 'mcp_gateway_session_starts_total{service="fx",cause="cold"}')).toBe(1);

    expect(delta(after.samples, 'mcp_gateway_http_requests_total{route="/services/:name/call",status="200"}')).toBe(4);
    expect(delta(after.samples, 'mcp_gateway_http_requests_total{route="/services/:name/call",status="404"}')).toBe(1);
    expect(value(after.samples, 'mcp_gateway_http_requests_total{route="/metrics",status="401"}')).toBe(1);
    // The route pattern, never the raw URL.
    expect(delta(after.samples, 'mcp_gateway_http_requests_total{route="unmatched",status="404"}')).toBe(1);
    expect(after.text).not.toContain('/no/such/path');

    expect(after.samples.has('process_cpu_user_seconds_total')).toBe(true);
    expect(after.samples.has('process_resident_memory_bytes')).toBe(true);
    expect(after.samples.has('nodejs_heap_size_used_bytes')).toBe(true);

    expect((await gw.request('DELETE', '/sessions/m1')).status).toBe(200);
    expect(value((await scrape()).samples, 'mcp_gateway_sessions{service="fx"}')).toBe(0);
  });
});
