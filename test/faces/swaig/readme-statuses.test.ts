import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEMO_SERVER, startTestGateway, type TestGateway } from '../../helpers/gateway.js';

interface Row {
  body: string;
  hasCredentials: boolean;
  status: number;
  answer: string;
}

/** The `/swaig` status table of the README, row by row, so the documentation cannot drift from the gateway. */
function readmeRows(): Row[] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| Request to `POST /swaig` |');
  expect(start).toBeGreaterThan(0);
  const lines = readme.slice(start).split('\n');
  const rows = lines.slice(2, lines.findIndex((line) => !line.startsWith('|')));
  return rows.map((line) => {
    const [request = '', credentials = '', status = '', answer = ''] = line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, '').trim());
    return { body: request.replace(/^`|`$/g, ''), hasCredentials: credentials === 'yes', status: Number(status), answer };
  });
}

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ services: { todo: { command: [process.execPath, DEMO_SERVER], description: 'Demo to-do list' } } });
});
afterAll(() => gw?.close());

test('every row of the README /swaig table is what the gateway answers', async () => {
  const rows = readmeRows();
  expect(rows.length).toBeGreaterThanOrEqual(10);
  for (const row of rows) {
    const response = await gw.request('POST', '/swaig', {
      raw: row.body,
      headers: { 'content-type': 'application/json', ...(row.hasCredentials ? {} : { authorization: '' }) },
    });
    expect(response.status, row.body).toBe(row.status);
    if (row.status === 200 && row.answer.startsWith('`{"response"')) expect(typeof response.body.response, row.body).toBe('string');
    if (row.status !== 200) expect(response.body.error, row.body).toBe(row.answer.replace(/^`|`$/g, ''));
  }
});
