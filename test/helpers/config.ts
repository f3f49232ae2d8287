import { parseConfig } from '../../src/config/load.js';
import type { Config, SandboxConfig, SecurityConfig, ServiceConfig } from '../../src/config/types.js';

/** The schema's own defaults, so unit tests never keep a second copy of them. */
const DEFAULTS: Config = parseConfig(
  { server: { auth_token: 'test-token' }, services: { svc: { command: ['node', 'server.js'] } } },
  { env: {}, source: 'test defaults' },
);

export function securityConfig(overrides: Partial<SecurityConfig> = {}): SecurityConfig {
  return { ...DEFAULTS.security, ...overrides };
}

/** A validated service entry with the default sandbox, `sandbox` and `extra` merged over it. */
export function serviceConfig(extra: Partial<ServiceConfig> = {}, sandbox: Partial<SandboxConfig> = {}): ServiceConfig {
  const base = DEFAULTS.services['svc']!;
  return { ...base, warm_pool: 0, ...extra, sandbox: { ...base.sandbox, ...sandbox } };
}
