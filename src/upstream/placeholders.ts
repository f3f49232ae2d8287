/**
 * Per-session placeholders in a service's `command` and `env`: `{{session_dir}}` (the session's
 * private directory) and `{{session_id}}`. Unlike `${VAR}`, expanded once at load, these are
 * expanded each time a server starts, so file-backed servers can keep their files per call.
 */
import type { ServiceConfig } from '../config/types.js';

export interface SessionValues {
  sessionDir: string;
  sessionId: string;
}

const PLACEHOLDER = /\{\{\s*(session_dir|session_id)\s*\}\}/g;

function expand(text: string, values: SessionValues): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => (name === 'session_dir' ? values.sessionDir : values.sessionId));
}

/** The service as this session's server starts it. */
export function withSessionValues(service: ServiceConfig, values: SessionValues): ServiceConfig {
  return {
    ...service,
    command: service.command.map((part) => expand(part, values)),
    env: Object.fromEntries(Object.entries(service.env).map(([name, value]) => [name, expand(value, values)])),
  };
}

/**
 * Whether the service's server depends on the session id: such a server cannot be started before
 * its session is known, so it is never pre-started (warm pool) nor reused from the tool listing.
 */
export function usesSessionId(service: ServiceConfig): boolean {
  const mentions = (text: string): boolean => [...text.matchAll(PLACEHOLDER)].some((match) => match[1] === 'session_id');
  return service.command.some(mentions) || Object.values(service.env).some(mentions);
}
