import type { Tool } from '@modelcontextprotocol/client';

/**
 * The tool lists of all services, cached. Filled when the gateway validates its services at
 * start-up and refreshed by `list_changed` or a miss, so listing tools never starts a server per
 * request (SPEC §6, §11: the reference spawned one per GET, ~250 ms, under a global lock).
 */
export class ToolCatalogue {
  private readonly lists = new Map<string, { tools: Tool[]; names: Set<string>; refreshedAt: number }>();
  private readonly refreshing = new Map<string, Promise<Tool[]>>();
  /** The last failed refresh per service: repeated within the interval, it is answered from here. */
  private readonly failures = new Map<string, { error: unknown; at: number }>();
  private readonly listeners = new Set<(service: string) => void>();

  constructor(
    private readonly fetchTools: (service: string) => Promise<Tool[]>,
    private readonly now: () => number,
    /** A miss refreshes at most this often per service, so unknown names cannot make it spawn in a loop. */
    private readonly minRefreshIntervalMs = 5000,
    /** What the faces may see of a service's list (its `tools` filter); applied to every list stored. */
    private readonly offered: (service: string, tools: Tool[]) => Tool[] = (_service, tools) => tools,
  ) {}

  cached(service: string): Tool[] | undefined {
    return this.lists.get(service)?.tools;
  }

  store(service: string, listed: Tool[]): void {
    const tools = this.offered(service, listed);
    const previous = this.lists.get(service)?.tools;
    this.lists.set(service, { tools, names: new Set(tools.map((tool) => tool.name)), refreshedAt: this.now() });
    if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(tools)) {
      for (const listener of this.listeners) listener(service);
    }
  }

  /** Calls `listener` when a service's known list changes (the MCP face relays list_changed); returns the unsubscribe. */
  onChange(listener: (service: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops what is known about a service whose definition was replaced or removed. */
  forget(service: string): void {
    this.lists.delete(service);
    this.failures.delete(service);
  }

  /** The cached list, or one shared refresh when there is none yet. */
  async tools(service: string): Promise<Tool[]> {
    return this.cached(service) ?? this.refresh(service);
  }

  /** Whether the cached list of `service` has `tool`: the warm call's answer, without a promise. */
  knows(service: string, tool: string): boolean {
    return this.lists.get(service)?.names.has(tool) === true;
  }

  /** Whether `service` offers `tool`, refreshing once when the cached list does not know it. */
  async hasTool(service: string, tool: string): Promise<boolean> {
    if (this.knows(service, tool)) return true;
    const entry = this.lists.get(service);
    if (entry && this.now() - entry.refreshedAt < this.minRefreshIntervalMs) return false;
    const tools = await this.refresh(service);
    return tools.some((candidate) => candidate.name === tool);
  }

  /**
   * Concurrent refreshes of one service share one fetch, and a service whose last refresh failed
   * less than the interval ago gets that failure again: a broken service must not cost a spawn
   * per request (SPEC §6). `force` skips that answer: the background retry of a failed service.
   */
  refresh(service: string, force = false): Promise<Tool[]> {
    const failure = this.failures.get(service);
    if (!force && failure && this.now() - failure.at < this.minRefreshIntervalMs) return Promise.reject(failure.error);
    let pending = this.refreshing.get(service);
    if (!pending) {
      pending = this.fetchTools(service)
        .then(
          (listed) => {
            this.failures.delete(service);
            this.store(service, listed);
            return this.cached(service)!;
          },
          (error: unknown) => {
            this.failures.set(service, { error, at: this.now() });
            throw error;
          },
        )
        .finally(() => this.refreshing.delete(service));
      this.refreshing.set(service, pending);
    }
    return pending;
  }
}
