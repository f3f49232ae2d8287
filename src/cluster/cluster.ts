import type { Logger } from 'pino';
import type { ClusterConfig, Config } from '../config/types.js';
import type { SessionRegistry } from '../sessions/registry.js';
import { MAX_CALL_MS, PROGRESS_CEILING_FACTOR } from '../sessions/tool-calls.js';
import { createDirectory } from './directory.js';
import { createForwarder } from './forward.js';
import { createHopSigner } from './hop.js';
import { ClusterInstance, type ClusterStatus } from './instance.js';
import { createClusterRouting, type ClusterRouting } from './routing.js';

export interface Cluster {
  routing: ClusterRouting;
  instance: ClusterInstance;
  status(): ClusterStatus;
  /** Once listening: joins the cluster. */
  start(): Promise<void>;
  /** SPEC §12 drain; nothing to do for an instance that never joined. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

const KEY_PREFIX = 'mcp-gateway:';
/** Beyond the owner's own timeouts: the owner answers a timed-out call itself, this only guards against a frozen one. */
const FORWARD_MARGIN_MS = 10_000;

/** The directory's Redis: `cluster.storage_uri`, else the rate limiter's when that is Redis (SPEC §12). */
export function clusterStorageUri(config: Config, cluster: ClusterConfig): string {
  if (cluster.storage_uri !== undefined) return cluster.storage_uri;
  if (/^rediss?:\/\//i.test(config.rate_limiting.storage_uri)) return config.rate_limiting.storage_uri;
  throw new Error('cluster.storage_uri: a Redis URI is needed (rate_limiting.storage_uri is not Redis)');
}

export async function createCluster(deps: { config: Config; cluster: ClusterConfig; registry: SessionRegistry; logger: Logger; now: () => number }): Promise<Cluster> {
  const { cluster, logger } = deps;
  const clusterLogger = logger.child({ component: 'cluster' });
  const instanceId = ClusterInstance.newId();
  const directory = await createDirectory({
    storageUri: clusterStorageUri(deps.config, cluster),
    keyPrefix: KEY_PREFIX,
    instanceId,
    instanceTtlMs: cluster.owner_timeout * 1000,
    // A dead owner's session keys outlive it by an idle timeout, so a late call still learns its state was lost.
    sessionTtlMs: (deps.config.session.default_timeout + cluster.owner_timeout) * 1000,
    now: deps.now,
    onError: (error) => clusterLogger.debug({ err: error }, 'cluster redis error'),
  });
  const instance = new ClusterInstance({ id: instanceId, config: cluster, directory, registry: deps.registry, logger: clusterLogger });
  const forwarder = createForwarder();
  const slowestCallMs = Math.max(0, ...Object.values(deps.config.services).map((service) => service.call_timeout * 1000));
  const routing = createClusterRouting({
    instance,
    signer: createHopSigner(cluster.secret, deps.now),
    forward: forwarder.forward,
    forwardTimeoutMs: Math.min(slowestCallMs * PROGRESS_CEILING_FACTOR, MAX_CALL_MS) + FORWARD_MARGIN_MS,
    ownerWaitMs: (cluster.owner_timeout + 2 * cluster.heartbeat) * 1000,
  });
  let isStarted = false;
  return {
    routing,
    instance,
    status: () => instance.status(),
    async start() {
      isStarted = true;
      await instance.start();
    },
    async drain() {
      if (isStarted) await instance.drain();
    },
    async close() {
      await instance.close();
      forwarder.close();
    },
  };
}
