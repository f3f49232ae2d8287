import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { diffServices, sectionsNeedingRestart } from '../../src/sessions/reload.js';

const config = (services: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  parseConfig({ server: { auth_token: 't' }, services, ...extra }, { env: {}, source: 'test' });

describe('what a reload changes (SPEC §15)', () => {
  test('added, changed, removed and unchanged services; a disabled one counts as removed, key order is no change', () => {
    const before = config({
      same: { command: ['a'], env: { X: '1', Y: '2' } },
      edited: { command: ['b'], call_timeout: 30 },
      dropped: { command: ['c'] },
      switchedOff: { command: ['d'] },
      stillOff: { command: ['e'], enabled: false },
    });
    const after = config({
      same: { env: { Y: '2', X: '1' }, command: ['a'] },
      edited: { command: ['b'], call_timeout: 31 },
      switchedOff: { command: ['d'], enabled: false },
      stillOff: { command: ['e'], enabled: false },
      fresh: { command: ['f'] },
    });
    const changes = diffServices(before.services, after.services);
    expect(changes.unchanged).toEqual(['same']);
    expect(changes.changed.map(({ before, after }) => [before.call_timeout, after.call_timeout])).toEqual([[30, 31]]);
    expect(changes.added.map((service) => service.name)).toEqual(['fresh']);
    expect(changes.removed.map((service) => service.name)).toEqual(['dropped', 'switchedOff']);
  });

  test('sections other than services are reported as needing a restart', () => {
    const before = config({ a: { command: ['a'] } });
    const after = config({ b: { command: ['b'] } }, { session: { max_total_sessions: 7 }, logging: { level: 'DEBUG' } });
    expect(sectionsNeedingRestart(before, after).sort()).toEqual(['logging', 'session']);
    expect(sectionsNeedingRestart(before, config({ a: { command: ['x'] } }))).toEqual([]);
  });
});
