import {
  Client,
  ProtocolError,
  SdkError,
  SdkErrorCode,
  type CallToolResult,
  type PriorDiscovery,
  type Progress,
  type StandardSchemaV1,
  type Tool,
  type Transport,
} from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { isPlainObject } from '../json.js';
import { VERSION } from '../version.js';
import { RESULT_TOO_LARGE_CODE } from './oversized-line.js';
import { describeExit, ProcessHandle, type CloseTimings, type ExitInfo, type Launch, type ProcessGroups, type SpawnInside } from './process.js';
import { ProcessTransport } from './stdio-transport.js';

/** Remembered protocol era per service, so a session start never probes again (SPEC §6). */
export type EraVerdicts = Map<string, PriorDiscovery>;

/**
 * What an Upstream holds its server by: a process group (ProcessHandle) or a remote MCP session
 * (remote.ts). Everything above this module treats both alike.
 */
export interface ServerLink {
  /** The process group leader; undefined for a remote server. */
  readonly pid: number | undefined;
  readonly isAlive: boolean;
  /** Resolves once the server is gone, for whatever reason. */
  readonly exited: Promise<ExitInfo>;
  readonly exitStatus: ExitInfo | undefined;
  readonly stderr: { tail(lines: number): string[] };
  killNow(): void;
  /** Ends the server (process tree, or remote session); resolves when it is gone. */
  close(): Promise<void>;
}

/** What the MCP handshake needs besides the link and the transport it runs over. */
export type HandshakeOptions = Pick<ConnectOptions, 'service' | 'eras' | 'logger' | 'startTimeoutMs' | 'probeTimeoutMs' | 'onToolsChanged' | 'explainExit'>;

export interface ConnectOptions {
  service: string;
  launch: Launch;
  eras: EraVerdicts;
  logger: Logger;
  /** Bound for spawn, era probe and handshake (the service's `start_timeout`). */
  startTimeoutMs: number;
  /** Largest message read from the server (`max_result_bytes`). */
  maxMessageBytes: number;
  /** How long a `server/discover` probe may go unanswered before the server counts as legacy. */
  probeTimeoutMs: number;
  timings?: CloseTimings;
  /** Where every spawned group is registered, so shutdown can find it in any state. */
  groups: ProcessGroups;
  onToolsChanged?: (tools: Tool[]) => void;
  /** See process.ts. */
  spawnInside?: SpawnInside;
  /** A better reason for the server's death than its exit status (e.g. an OOM kill), if there is one. */
  explainExit?: () => string | undefined;
}

export interface CallOptions {
  timeoutMs: number;
  /** Progress notifications restart `timeoutMs`, but never beyond this (SPEC §6). */
  maxTotalMs: number;
  /** Aborted when the caller gave up (HTTP client disconnected): the server gets notifications/cancelled. */
  signal?: AbortSignal;
  /** The server's progress notifications, for a caller that relays them (the MCP face). */
  onProgress?: (progress: Progress) => void;
}

const STDERR_LINES_IN_ERRORS = 5;
/** Non-JSON stdout lines logged per server before only every 1000th is. */
const NOISE_LINES_LOGGED = 10;

/**
 * The result schema handed to the SDK for tools/call. The gateway relays results rather than
 * judging them, and without an explicit schema the SDK first validates `undefined` against its
 * own result schema on every request and stringifies the resulting zod error: 6 % of the
 * gateway's CPU under load (measured with --cpu-prof, 16 concurrent sessions).
 */
const RELAYED_RESULT: StandardSchemaV1<unknown, Record<string, unknown>> = {
  '~standard': {
    version: 1,
    vendor: 'mcp-gateway',
    validate: (value) => (isPlainObject(value) ? { value } : { issues: [{ message: 'result is not a JSON object' }] }),
  },
};

/**
 * A connected MCP server process for one session: the official SDK Client over a process the
 * gateway owns. Every failure leaves here as a GatewayError.
 */
export class Upstream {
  /** Resolves once the server process has exited, for whatever reason. */
  readonly ended: Promise<ExitInfo>;
  private terminationReason: string | undefined;
  private ping: Promise<boolean> | undefined;

  private constructor(
    private readonly service: string,
    private readonly client: Client,
    private readonly handle: ServerLink,
    private readonly explainExit: () => string | undefined = () => undefined,
  ) {
    this.ended = handle.exited;
  }

  static async connect(options: ConnectOptions): Promise<Upstream> {
    const { service, logger } = options;
    let handle: ProcessHandle;
    try {
      handle = await ProcessHandle.spawn(options.launch, {
        timings: options.timings,
        groups: options.groups,
        spawnInside: options.spawnInside,
        onStderrLine: logger.isLevelEnabled('debug') ? (line) => logger.debug({ line }, 'server stderr') : undefined,
      });
    } catch (error) {
      throw startFailed(service, (error as Error).message, error);
    }
    let noiseLines = 0;
    const transport = new ProcessTransport(handle, options.maxMessageBytes, (line) => {
      // Logged, but bounded: a server that prints garbage all day must not flood the log.
      noiseLines += 1;
      if (noiseLines <= NOISE_LINES_LOGGED || noiseLines % 1000 === 0) {
        logger.warn({ line: line.slice(0, 200), count: noiseLines }, 'non-JSON line on server stdout skipped');
      }
    });
    return Upstream.handshake(options, handle, transport, (error) => startFailure(service, handle, error, options.explainExit));
  }

  /**
   * The MCP handshake over a connected link. On failure the link is closed (the tree is gone, the
   * remote session ended) before the caller hears of it: its directory is removed next (SPEC §5).
   */
  static async handshake(
    options: HandshakeOptions,
    link: ServerLink,
    transport: Transport,
    describeFailure: (error: unknown) => Promise<GatewayError>,
  ): Promise<Upstream> {
    const { service, logger } = options;
    const client = new Client(
      { name: 'mcp-gateway', version: VERSION },
      {
        // Declare nothing the gateway cannot serve: no sampling, elicitation or roots (SPEC §6).
        capabilities: {},
        versionNegotiation: { mode: 'auto', probe: { timeoutMs: options.probeTimeoutMs } },
        listChanged: options.onToolsChanged
          ? { tools: { onChanged: (error, tools) => !error && tools && options.onToolsChanged!(tools) } }
          : undefined,
      },
    );
    client.onerror = (error) => logger.debug({ err: error }, 'mcp client error');
    const prior = options.eras.get(service);
    const abandon = new AbortController();
    const startTimer = setTimeout(() => abandon.abort(), options.startTimeoutMs);
    try {
      await Promise.race([
        client.connect(transport, { prior, timeout: options.startTimeoutMs }),
        rejectOnAbort(abandon.signal, `the server did not answer the MCP handshake within ${formatSeconds(options.startTimeoutMs)} s`),
      ]);
    } catch (error) {
      const failure = await describeFailure(error);
      await link.close();
      throw failure;
    } finally {
      clearTimeout(startTimer);
    }
    if (!prior) options.eras.set(service, eraVerdict(client));
    return new Upstream(service, client, link, options.explainExit);
  }

  get pid(): number | undefined {
    return this.handle.pid;
  }

  get isAlive(): boolean {
    return this.handle.isAlive;
  }

  /** The protocol era this server speaks: `legacy` (initialize handshake) or `modern` (2026-07-28). */
  get era(): 'legacy' | 'modern' {
    return this.client.getProtocolEra() === 'modern' ? 'modern' : 'legacy';
  }

  stderrTail(lines = STDERR_LINES_IN_ERRORS): string[] {
    return this.handle.stderr.tail(lines);
  }

  async listTools(timeoutMs: number): Promise<Tool[]> {
    try {
      const { tools } = await this.client.listTools(undefined, { timeout: timeoutMs, cacheMode: 'refresh' });
      return tools;
    } catch (error) {
      throw this.callFailure(error, timeoutMs);
    }
  }

  async callTool(name: string, args: Record<string, unknown>, options: CallOptions): Promise<CallToolResult> {
    // `request` instead of `callTool`: the gateway relays results as they are, it does not
    // reject them for disagreeing with the tool's outputSchema (SDK gotcha 9).
    return (await this.relay('tools/call', { name, arguments: args }, options)) as CallToolResult;
  }

  /** Whether the server declared `capability` (resources, prompts) in its handshake. */
  supports(capability: 'resources' | 'prompts'): boolean {
    return this.client.getServerCapabilities()?.[capability] !== undefined;
  }

  /** One request relayed as it is (tools/call, and resources and prompts for the MCP face). */
  async relay(method: string, params: Record<string, unknown>, options: CallOptions): Promise<Record<string, unknown>> {
    try {
      return await this.client.request(
        { method, params },
        RELAYED_RESULT,
        {
          timeout: options.timeoutMs,
          resetTimeoutOnProgress: true,
          maxTotalTimeout: options.maxTotalMs,
          onprogress: options.onProgress ?? (() => {}),
          signal: options.signal,
        },
      );
    } catch (error) {
      if (options.signal?.aborted && this.handle.exitStatus === undefined) {
        const what = method === 'tools/call' ? `the call to '${String(params.name)}'` : `the ${method} request`;
        throw new GatewayError('CLIENT_CLOSED', `Client closed the connection; ${what} was cancelled`, {}, { cause: error });
      }
      throw this.callFailure(error, options.timeoutMs);
    }
  }

  /**
   * Whether the server still answers a `ping` within `timeoutMs`. One at a time: callers that ask
   * while a ping is out share its answer.
   */
  answersPing(timeoutMs: number): Promise<boolean> {
    this.ping ??= this.client
      .ping({ timeout: timeoutMs })
      .then(
        () => true,
        // An error answer is still an answer; only silence (or a dead pipe) counts as wedged.
        (error: unknown) => error instanceof ProtocolError,
      )
      .finally(() => {
        this.ping = undefined;
      });
    return this.ping;
  }

  /**
   * Kills the server for a reason of the gateway's (e.g. a resource limit); calls in flight fail
   * with that reason instead of a bare exit status.
   */
  terminate(reason: string): void {
    this.terminationReason ??= reason;
    this.handle.killNow();
  }

  /** Ends the process tree; resolves when it is gone. */
  close(): Promise<void> {
    return this.handle.close();
  }

  private callFailure(error: unknown, timeoutMs: number): GatewayError {
    if (error instanceof GatewayError) return error;
    const exit = this.handle.exitStatus;
    if (exit) {
      return new GatewayError(
        'SERVER_EXITED',
        withStderr(`MCP server for '${this.service}' exited (${this.terminationReason ?? this.explainExit() ?? describeExit(exit)})`, this.stderrTail()),
        { exit },
        { cause: error },
      );
    }
    if (error instanceof ProtocolError && error.code === RESULT_TOO_LARGE_CODE && isPlainObject(error.data) && 'maxResultBytes' in error.data) {
      const { resultBytes, isComplete, maxResultBytes } = error.data as { resultBytes: number; isComplete: boolean; maxResultBytes: number };
      const size = `${isComplete ? '' : 'more than '}${resultBytes} bytes`;
      return new GatewayError('MCP_ERROR', `Result from '${this.service}' too large: ${size}, over max_result_bytes (${maxResultBytes})`);
    }
    if (error instanceof ProtocolError) {
      return new GatewayError('MCP_ERROR', `MCP error ${error.code}: ${error.message}`, {
        mcp_error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) },
      });
    }
    if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
      return new GatewayError('CALL_TIMEOUT', `Tool call timed out after ${formatSeconds(timeoutMs)}s`, {}, { cause: error });
    }
    return new GatewayError('MCP_ERROR', `MCP call failed: ${(error as Error).message}`, {}, { cause: error });
  }
}

function eraVerdict(client: Client): PriorDiscovery {
  const discover = client.getDiscoverResult();
  return client.getProtocolEra() === 'modern' && discover ? { kind: 'modern', discover } : { kind: 'legacy' };
}

async function startFailure(
  service: string,
  handle: ProcessHandle,
  error: unknown,
  explainExit: () => string | undefined = () => undefined,
): Promise<GatewayError> {
  const exit = handle.exitStatus;
  const reason = exit ? `exited during initialize (${explainExit() ?? describeExit(exit)})` : (error as Error).message;
  // The exit event can overtake the last stderr bytes; give the pipe a moment to deliver them.
  if (exit) await handle.stderrSettled(100);
  return startFailed(service, withStderr(reason, handle.stderr.tail(STDERR_LINES_IN_ERRORS)), error);
}

/** The one START_FAILED message (SPEC §4.1): `Failed to start MCP service '<name>': <reason>`. */
export function startFailed(service: string, reason: string, cause: unknown): GatewayError {
  return new GatewayError('START_FAILED', `Failed to start MCP service '${service}': ${reason}`, {}, { cause });
}

function withStderr(message: string, lines: string[]): string {
  return lines.length === 0 ? message : `${message}; its last stderr: ${lines.join(' | ')}`;
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function rejectOnAbort(signal: AbortSignal, message: string): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error(message)), { once: true }));
}
