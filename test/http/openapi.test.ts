import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fixtureService, startTestGateway, type TestGateway, type TestResponse } from '../helpers/gateway.js';

type Document = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, any> }>> };

describe('GET /openapi.json (SPEC §15)', () => {
  let gw: TestGateway;
  let doc: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const seen: string[] = [];

  /** Asserts that a real response matches the schema the document gives for its route and status. */
  const matches = (method: string, route: string, response: TestResponse): void => {
    const operation = doc.paths[route]?.[method.toLowerCase()];
    expect(operation, `${method} ${route} is documented`).toBeDefined();
    const documented = operation!.responses[String(response.status)];
    expect(documented, `${method} ${route} documents status ${response.status}`).toBeDefined();
    const validate = ajv.compile(documented.content['application/json'].schema);
    expect(validate(response.body), `${method} ${route} ${response.status}: ${JSON.stringify(validate.errors)}`).toBe(true);
    seen.push(`${method} ${route} ${response.status}`);
  };

  beforeAll(async () => {
    gw = await startTestGateway({
      // Only `hanging` has a short call timeout: a busy machine must not time out the other calls.
      services: { fx: fixtureService(), hanging: fixtureService([], { call_timeout: 1 }) },
      session: { max_sessions_per_service: 3 },
      security: { max_request_size: 4096 },
    });
    const response = await fetch(`${gw.url}/openapi.json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as Document;
  });
  afterAll(async () => {
    await gw?.close();
  });

  test('is a valid OpenAPI 3.1 document of the REST API, with every status of the status table', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(Object.keys(doc.paths).sort()).toEqual(['/health', '/services', '/services/{name}/call', '/services/{name}/tools', '/sessions', '/sessions/{id}']);
    expect(Object.keys(doc.paths['/services/{name}/call']!['post']!.responses).sort()).toEqual(
      ['200', '400', '401', '404', '413', '415', '429', '500', '502', '503', '504'],
    );
  });

  test('real responses match their documented schemas, and no field is lost in serialization', async () => {
    matches('GET', '/health', await gw.request('GET', '/health'));
    matches('GET', '/services', await gw.request('GET', '/services'));
    matches('GET', '/services/{name}/tools', await gw.request('GET', '/services/fx/tools'));
    matches('GET', '/services/{name}/tools', await gw.request('GET', '/services/nope/tools'));
    matches('GET', '/services/{name}/tools', await gw.request('GET', '/services/bad%20name/tools'));
    matches('GET', '/services', await gw.request('GET', '/services', { headers: { authorization: 'Bearer wrong' } }));

    const call = (body: Record<string, unknown>) => gw.call('fx', body);
    const ok = await call({ tool: 'echo', session_id: 'o1', arguments: { text: 'hi' } });
    matches('POST', '/services/{name}/call', ok);
    const structured = await call({ tool: 'structured', session_id: 'o1' });
    matches('POST', '/services/{name}/call', structured);
    expect(structured.body.structured_content).toEqual({ answer: 42 });
    matches('POST', '/services/{name}/call', await call({ tool: 'fail', session_id: 'o1' }));
    const invalidParams = await call({ tool: 'rpc_error', session_id: 'o1', arguments: { code: -32602, message: 'bad args' } });
    expect(invalidParams.status).toBe(400);
    expect(invalidParams.body.mcp_error).toMatchObject({ code: -32602, message: 'bad args', data: { hint: 'x' } });
    matches('POST', '/services/{name}/call', invalidParams);
    const serverError = await call({ tool: 'rpc_error', session_id: 'o1', arguments: { code: -32000, message: 'boom' } });
    expect(serverError.status).toBe(502);
    expect(serverError.body.mcp_error).toMatchObject({ code: -32000 });
    matches('POST', '/services/{name}/call', serverError);
    matches('POST', '/services/{name}/call', await call({ tool: 'no_such_tool', session_id: 'o1' }));
    matches('POST', '/services/{name}/call', await call({ session_id: 'o1' }));
    matches('POST', '/services/{name}/call', await gw.request('POST', '/services/fx/call', { raw: 'x'.repeat(5000), headers: { 'content-type': 'application/json' } }));
    matches('POST', '/services/{name}/call', await gw.call('hanging', { tool: 'hang', session_id: 'o2' }));
    matches('POST', '/services/{name}/call', await call({ tool: 'crash', session_id: 'o3' }));
    for (const id of ['o4', 'o5']) await call({ tool: 'echo', session_id: id, arguments: { text: id } });
    matches('POST', '/services/{name}/call', await call({ tool: 'echo', session_id: 'o6', arguments: { text: 'over the limit' } }));

    matches('GET', '/sessions', await gw.request('GET', '/sessions'));
    matches('DELETE', '/sessions/{id}', await gw.request('DELETE', '/sessions/o1'));
    matches('DELETE', '/sessions/{id}', await gw.request('DELETE', '/sessions/o1'));
    matches('DELETE', '/sessions/{id}', await gw.request('DELETE', '/sessions/bad%20id'));

    expect(seen).toEqual(expect.arrayContaining([
      'POST /services/{name}/call 200', 'POST /services/{name}/call 400', 'POST /services/{name}/call 404',
      'POST /services/{name}/call 413', 'POST /services/{name}/call 502', 'POST /services/{name}/call 503',
      'POST /services/{name}/call 504', 'GET /services 401', 'DELETE /sessions/{id} 404',
    ]));
  });
});
