import type { Logger } from 'pino';

/** What `GET /services` and `/health` say about one service. */
export type ServiceState =
  | { status: 'starting' }
  | { status: 'ready' }
  /** `next_retry`: when the background retry starts (ISO 8601); `failures`: starts failed in a row. */
  | { status: 'failed'; error: string; next_retry: string; failures: number };

export interface ServiceReport {
  service: string;
  ok: boolean;
  tools: number;
  ms: number;
  error?: string;
}

export interface ServiceStartupDeps {
  /** Starts the service once and lists its tools (the catalogue's refresh, bypassing its failure cache). */
  start: (service: string) => Promise<{ tools: number }>;
  /** The service has just come up: fill its warm pool. */
  onReady: (service: string) => void;
  logger: Logger;
  now: () => number;
  /** Services started at once by `startAll` (each start is a process, a handshake and a listing). */
  concurrency: number;
  backoff?: { firstMs: number; maxMs: number };
}

/** The first retry waits 1 s, then twice as long each time, up to 10 s: a fixed server is back within seconds. */
const DEFAULT_BACKOFF = { firstMs: 1000, maxMs: 10_000 };

interface Entry {
  state: ServiceState;
  failures: number;
  retry?: NodeJS.Timeout;
}

/**
 * Brings services up and keeps them up (issue: a service that failed its first start used to stay
 * out of the SWAIG face for good). Every start outcome, the first one or one a request caused, is
 * reported here; a failure schedules a retry in the background with back-off, and a retry that
 * succeeds fills the catalogue, so the service returns to every face without anyone asking.
 */
export class ServiceStartup {
  private readonly entries = new Map<string, Entry>();
  private readonly backoff: { firstMs: number; maxMs: number };
  private isStopped = false;

  constructor(private readonly deps: ServiceStartupDeps) {
    this.backoff = deps.backoff ?? DEFAULT_BACKOFF;
  }

  /** Undefined for a service no start has been reported for yet. */
  state(service: string): ServiceState | undefined {
    return this.entries.get(service)?.state;
  }

  /**
   * Follows one start of `service`. A failed service stays `failed` while it is retried: it is
   * not usable until a start succeeds.
   */
  observe<T>(service: string, start: Promise<T>): Promise<T> {
    const entry = this.entry(service);
    return start.then(
      (value) => {
        this.succeeded(service, entry);
        return value;
      },
      (error: unknown) => {
        this.failed(service, entry, error);
        throw error;
      },
    );
  }

  /** The first start of every service, `concurrency` at a time; failed ones go on retrying in the background. */
  async startAll(services: readonly string[]): Promise<ServiceReport[]> {
    const reports = new Array<ServiceReport>(services.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < services.length) {
        const index = next++;
        reports[index] = await this.startOne(services[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency, services.length) }, worker));
    return reports;
  }

  /** Forgets a service a reload removed or replaced: no more retries, no state. */
  forget(service: string): void {
    clearTimeout(this.entries.get(service)?.retry);
    this.entries.delete(service);
  }

  /** No more retries (shutdown). */
  stop(): void {
    this.isStopped = true;
    for (const entry of this.entries.values()) clearTimeout(entry.retry);
  }

  private async startOne(service: string): Promise<ServiceReport> {
    const started = this.deps.now();
    try {
      const { tools } = await this.deps.start(service);
      return { service, ok: true, tools, ms: this.deps.now() - started };
    } catch (error) {
      return { service, ok: false, tools: 0, ms: this.deps.now() - started, error: (error as Error).message };
    }
  }

  private entry(service: string): Entry {
    let entry = this.entries.get(service);
    if (!entry) {
      entry = { state: { status: 'starting' }, failures: 0 };
      this.entries.set(service, entry);
    }
    return entry;
  }

  private succeeded(service: string, entry: Entry): void {
    clearTimeout(entry.retry);
    entry.retry = undefined;
    if (entry.failures > 0) this.deps.logger.info({ service, failures: entry.failures }, 'service is up again');
    entry.failures = 0;
    entry.state = { status: 'ready' };
    if (!this.isStopped) this.deps.onReady(service);
  }

  private failed(service: string, entry: Entry, error: unknown): void {
    entry.failures += 1;
    const delayMs = Math.min(this.backoff.firstMs * 2 ** (entry.failures - 1), this.backoff.maxMs);
    const message = (error as Error).message;
    entry.state = { status: 'failed', error: message, next_retry: new Date(this.deps.now() + delayMs).toISOString(), failures: entry.failures };
    this.deps.logger.warn({ service, err: message, failures: entry.failures, retryInMs: delayMs }, 'service failed to start; retrying in the background');
    clearTimeout(entry.retry);
    if (this.isStopped) return;
    entry.retry = setTimeout(() => {
      entry.retry = undefined;
      // The outcome is observed (and the next retry scheduled) through the start itself.
      this.deps.start(service).catch(() => {});
    }, delayMs);
    entry.retry.unref();
  }
}
