import { describe, expect, test } from 'vitest';
import { createHopSigner, sha256Hex } from '../../src/cluster/hop.js';

const SECRET = 'hop-test-secret-0123456789';
const hop = { from: 'a1b2c3d4e5f60718', requestId: '6f1c2b1e-6a43-4a55-9d3c-0b1f2e3d4c5b', bodySha256: sha256Hex('{"session_id":"x"}') };

describe('X-Gateway-Hop (SPEC §12)', () => {
  const signer = createHopSigner(SECRET, () => 1_000_000);
  const header = signer.sign('POST', '/services/fx/call', hop);

  test('a hop signed with the cluster secret verifies and tells sender, request id and body digest', () => {
    expect(signer.verify('POST', '/services/fx/call', header)).toEqual(hop);
  });

  test.each([
    { why: 'another secret', verify: () => createHopSigner('another-secret-0123456789', () => 1_000_000).verify('POST', '/services/fx/call', header) },
    { why: 'another path', verify: () => signer.verify('POST', '/services/other/call', header) },
    { why: 'another method', verify: () => signer.verify('DELETE', '/services/fx/call', header) },
    { why: 'another body', verify: () => signer.verify('POST', '/services/fx/call', header.replace(hop.bodySha256, sha256Hex('{}'))) },
    { why: 'another sender', verify: () => signer.verify('POST', '/services/fx/call', header.replace(hop.from, '0000000000000000')) },
    { why: 'too old', verify: () => createHopSigner(SECRET, () => 1_000_000 + 31_000).verify('POST', '/services/fx/call', header) },
    { why: 'garbage', verify: () => signer.verify('POST', '/services/fx/call', 'a;b;c') },
    { why: 'an extra field', verify: () => signer.verify('POST', '/services/fx/call', `${header};x`) },
  ])('$why does not verify', ({ verify }) => {
    expect(verify()).toBeUndefined();
  });
});
