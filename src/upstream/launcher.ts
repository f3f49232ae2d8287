import type { Tool } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/types.js';
import { GatewayError } from '../errors.js';
import type { WatchMemory } from './memory-watchdog.js';
import { startFailed, Upstream, type EraVerdicts } from './mcp-client.js';
import type { CloseTimings, ProcessGroups } from './process.js';
import { withSessionValues } from './placeholders.js';
import { connectRemote } from './remote.js';
import { buildLaunch, serverOwner, type SandboxHost, type UnixUser } from './sandbox.js';
import { createSessionDir, removeSessionDir } from './session-dir.js';
import type { Containment } from './containment/containment.js';

export interface LauncherDeps {
  /** Absolute parent of the per-session private directories. */
  sandboxDir: string;
  /** session.sandbox_dir, absolute: what bubblewrap hides from a server when the gateway is not root. */
  sessionsRoot?: string;
  gatewayCwd: string;
  parentEnv: Record<string, string | undefined>;
  /** The gateway's own credentials: never handed to a child. */
  secrets: string[];
  host: SandboxHost;
  /** The one memory scanner shared by every session (one /proc walk per interval, not one per session). */
  watchMemory: WatchMemory;
  eras: EraVerdicts;
  logger: Logger;
  probeTimeoutMs: number;
  /** The shared package-runner cache for a server owner (package-cache.ts); absent = none. */
  packageCache?: (owner?: UnixUser) => Promise<string>;
  timings?: CloseTimings;
  groups: ProcessGroups;
  /** Per-session uid and cgroup (SPEC §14); without it, process groups and the watchdog alone. */
  containment?: Containment;
  onToolsChanged: (service: string, tools: Tool[]) => void;
}

/** A started MCP server plus whatever must be undone when it goes (process tree, private directory). */
export interface SessionServer {
  upstream: Upstream;
  /** Ends the process tree and removes the private directory; resolves when both are gone. */
  dispose(): Promise<void>;
}

/** `label`: the session id the server is for, or what it is for when it has none yet ("warm", "catalogue", "shared"). */
export type StartServer = (service: ServiceConfig, label: string) => Promise<SessionServer>;

/**
 * Starts one sandboxed MCP server: private directory, sandbox wrapper, process, MCP handshake,
 * memory watchdog. Whatever fails on the way is undone before the error leaves.
 */
export function createLauncher(deps: LauncherDeps): StartServer {
  return async (service, label) => {
    const logger = deps.logger.child({ service: service.name, sessionId: label });
    if (service.url !== undefined) return startRemote(service, logger, deps);
    const contained = await deps.containment?.forSession(service);
    const owner = contained?.user ?? serverOwner(service, deps.host);
    let dir: string;
    try {
      dir = await createSessionDir(deps.sandboxDir, service.name, label, owner);
    } catch (error) {
      await contained?.dispose();
      throw error;
    }
    try {
      const packageCacheDir = await deps.packageCache?.(owner);
      const launch = buildLaunch(withSessionValues(service, { sessionDir: dir, sessionId: label }), {
        sessionDir: dir,
        packageCacheDir,
        parentEnv: deps.parentEnv,
        gatewayCwd: deps.gatewayCwd,
        secrets: deps.secrets,
        ...deps.host,
        sessionUser: contained?.user,
        sessionsRoot: deps.sessionsRoot,
      });
      const upstream = await Upstream.connect({
        service: service.name,
        launch,
        eras: deps.eras,
        logger,
        startTimeoutMs: service.start_timeout * 1000,
        maxMessageBytes: service.max_result_bytes,
        probeTimeoutMs: deps.probeTimeoutMs,
        timings: deps.timings,
        groups: deps.groups,
        spawnInside: contained?.spawnInside,
        explainExit: contained?.explainExit,
        onToolsChanged: (tools) => deps.onToolsChanged(service.name, tools),
      });
      const limitMb = launch.watchMemoryMb;
      const stopWatchdog = contained?.limitsMemory
        ? contained.watchMemory((reason) => {
            logger.warn({ limitMb }, 'memory limit reached in the session cgroup; stopping server');
            upstream.terminate(reason);
          })
        : limitMb
        ? deps.watchMemory({
            pgid: upstream.pid!,
            limitMb,
            onExceeded: (rssMb) => {
              logger.warn({ rssMb, limitMb }, 'memory limit exceeded; stopping server');
              upstream.terminate(`memory limit of ${limitMb} MiB exceeded: ${Math.round(rssMb)} MiB resident`);
            },
          })
        : () => {};
      return {
        upstream,
        async dispose() {
          stopWatchdog();
          await upstream.close();
          await contained?.dispose();
          await removeSessionDir(dir);
        },
      };
    } catch (error) {
      await contained?.dispose();
      await removeSessionDir(dir);
      if (error instanceof GatewayError) throw error;
      throw startFailed(service.name, (error as Error).message, error);
    }
  };
}

/** A remote server (SPEC §13) has no process, directory or sandbox: its session is all there is. */
async function startRemote(service: ServiceConfig, logger: Logger, deps: LauncherDeps): Promise<SessionServer> {
  const upstream = await connectRemote(service, {
    service: service.name,
    eras: deps.eras,
    logger,
    startTimeoutMs: service.start_timeout * 1000,
    probeTimeoutMs: deps.probeTimeoutMs,
    onToolsChanged: (tools) => deps.onToolsChanged(service.name, tools),
  });
  return { upstream, dispose: () => upstream.close() };
}
