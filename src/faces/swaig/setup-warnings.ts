import { isLoopback } from '../../config/load.js';
import type { Config } from '../../config/types.js';

/** Set-ups that start but would fail or mislead SignalWire, said once at start-up. */
export function swaigSetupWarnings(config: Config): string[] {
  const { swaig, server, security } = config;
  if (!swaig.enabled || swaig.public_url !== '') return [];
  const warnings: string[] = [];
  if (server.auth_user === '' || server.auth_password === '') {
    warnings.push(
      'swaig: only a Bearer token is configured and swaig.public_url is not set; SignalWire can only authenticate with Basic ' +
        'credentials in web_hook_url, so get_signature is refused: set server.auth_user and server.auth_password',
    );
  }
  if (security.allowed_hosts.includes('*') && !isLoopback(server.host)) {
    warnings.push(
      `swaig: web_hook_url is built from each request's Host header while server.host ${server.host} is reachable from other ` +
        'machines and security.allowed_hosts allows any host: set swaig.public_url (or security.allowed_hosts)',
    );
  }
  return warnings;
}
