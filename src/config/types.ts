/**
 * The validated configuration. Keys keep the file's snake_case spelling and units (seconds, MiB,
 * bytes) so the docs, the file and the code read the same; rate-limit strings arrive parsed.
 * Produced only by src/config/schema.ts (which `satisfies` these types).
 */

export type LimitUnit = 'second' | 'minute' | 'hour' | 'day' | 'month' | 'year';

/** One parsed flask-limiter item, e.g. "10 per 1 minute". */
export interface RateLimit {
  amount: number;
  multiples: number;
  unit: LimitUnit;
  windowMs: number;
  /** Canonical text as flask-limiter prints it: `${amount} per ${multiples} ${unit}`. */
  text: string;
}

export interface SandboxConfig {
  enabled: boolean;
  restricted_env: boolean;
  resource_limits: boolean;
  max_memory_mb: number;
  max_cpu_seconds: number;
  max_file_size_mb: number;
  max_processes: number;
  max_open_files: number;
  /** Absent = the gateway's working directory. */
  working_dir?: string;
  allowed_paths: string[];
  drop_privileges: boolean;
  /** As root: each session's server runs under its own uid/gid from `uid_range` (SPEC §14). */
  session_uids: boolean;
  uid_range: [number, number];
  /** Kernel containment per session (SPEC §14): "auto" uses it when available. */
  cgroups: 'auto' | 'required' | 'off';
  /** CPU quota of the session's cgroup, in percent of one core; absent = no quota. */
  max_cpu_percent?: number;
}

/** Which of a server's tools are offered (globs over tool names), and descriptions to use instead of the server's. */
export interface ToolsConfig {
  allow: string[];
  deny: string[];
  descriptions: Record<string, string>;
}

export interface ServiceConfig {
  name: string;
  command: string[];
  description: string;
  enabled: boolean;
  env: Record<string, string>;
  sandbox: SandboxConfig;
  /** Seconds for one tool call. */
  call_timeout: number;
  /** Seconds a server has to start: spawn, protocol-era probe, handshake and first tool list. */
  start_timeout: number;
  /** Largest message (a tool result) read from the server, in bytes; a larger result fails at once. */
  max_result_bytes: number;
  /** Pre-started servers kept ready for new sessions (0 disables). */
  warm_pool: number;
  /** "session": one server per session (default); "shared": one server for every session. */
  session_mode: 'session' | 'shared';
  tools: ToolsConfig;
  /** A remote MCP server (SPEC §13) instead of `command`; `command` is then empty. */
  url?: string;
  /** Sent with every request to `url`; values are secrets. */
  headers: Record<string, string>;
  transport: 'streamable-http' | 'sse' | 'auto';
}

export interface ServerConfig {
  host: string;
  port: number;
  auth_user: string;
  auth_password: string;
  auth_token: string;
  /** false, true (trust every hop) or a list of trusted proxy addresses. */
  trust_proxy: boolean | string[];
  /** Seconds a client has to send a whole request, headers and body. */
  request_timeout: number;
  /** Open connections allowed from one address; 0 = no cap. */
  max_connections_per_client: number;
}

export interface SessionConfig {
  default_timeout: number;
  max_sessions_per_service: number;
  max_total_sessions: number;
  cleanup_interval: number;
  sandbox_dir: string;
  /** Shared npm/npx, uv and pip cache of package-runner servers; absent = <sandbox_dir>/.package-cache, "" = none. */
  package_cache_dir?: string;
}

export interface RateLimitingConfig {
  enabled: boolean;
  default_limits: RateLimit[];
  tools_limit: RateLimit[];
  call_limit: RateLimit[];
  /** "session": /call and /swaig limits count per (client, session); "client": per client address. */
  call_limit_scope: 'session' | 'client';
  session_delete_limit: RateLimit[];
  storage_uri: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LoggingConfig {
  level: LogLevel;
  file?: string;
}

export interface SecurityConfig {
  ssl_enabled: boolean;
  ssl_cert_path: string;
  ssl_key_path: string;
  allowed_hosts: string[];
  cors_origins: string[];
  max_request_size: number;
  use_hsts: boolean;
  hsts_max_age: number;
}

export interface SwaigConfig {
  enabled: boolean;
  public_url: string;
  function_prefix: string;
  max_response_chars: number;
  /** Seconds a SWAIG function call may take in all, progress or not: the platform waits about 30. */
  call_timeout: number;
  include_hangup_hook: boolean;
  fillers: Record<string, Record<string, string[]>>;
  limit: RateLimit[];
}

export interface ClusterConfig {
  /** Absent: rate_limiting.storage_uri when that is Redis (resolved where the directory is made). */
  storage_uri?: string;
  /** Origin (no trailing slash) at which the other instances reach this one directly. */
  instance_url: string;
  secret: string;
  /** Seconds between heartbeats. */
  heartbeat: number;
  /** Seconds without a heartbeat after which an instance counts as dead. */
  owner_timeout: number;
  /** Seconds a stopping instance keeps serving its own sessions. */
  drain_timeout: number;
}

export interface Config {
  server: ServerConfig;
  services: Record<string, ServiceConfig>;
  session: SessionConfig;
  rate_limiting: RateLimitingConfig;
  logging: LoggingConfig;
  security: SecurityConfig;
  swaig: SwaigConfig;
  /** Absent: a single instance (SPEC §12). */
  cluster?: ClusterConfig;
}
