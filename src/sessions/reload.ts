import type { Config, ServiceConfig } from '../config/types.js';

export interface ServiceChanges {
  added: ServiceConfig[];
  changed: Array<{ before: ServiceConfig; after: ServiceConfig }>;
  /** Gone or disabled: a disabled service is neither listed nor callable (SPEC §3). */
  removed: ServiceConfig[];
  unchanged: string[];
}

/** What a reload does to the services (SPEC §15); only enabled services count. */
export function diffServices(before: Config['services'], after: Config['services']): ServiceChanges {
  const changes: ServiceChanges = { added: [], changed: [], removed: [], unchanged: [] };
  for (const [name, next] of Object.entries(after)) {
    if (!next.enabled) continue;
    const previous = before[name];
    if (!previous?.enabled) changes.added.push(next);
    else if (canonical(previous) === canonical(next)) changes.unchanged.push(name);
    else changes.changed.push({ before: previous, after: next });
  }
  for (const [name, previous] of Object.entries(before)) {
    if (previous.enabled && !after[name]?.enabled) changes.removed.push(previous);
  }
  return changes;
}

/** Sections a reload cannot apply to a running gateway (listeners, limits, logging): they wait for a restart. */
export function sectionsNeedingRestart(before: Config, after: Config): string[] {
  return (Object.keys(after) as Array<keyof Config>).filter((key) => key !== 'services' && canonical(before[key]) !== canonical(after[key]));
}

/** JSON with object keys sorted, so reordering keys in the file is no change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
