/**
 * JSON Schemas of the REST face (SPEC §4): they document the API (`GET /openapi.json`) and give
 * fastify a fast serializer. The face validates requests itself (its exact error messages are part
 * of the wire contract), so request schemas only document. Every object stays open
 * (`additionalProperties: true`): a serializer must never drop a field the API returns, including
 * fields other parts of the gateway add (`session_reset`, `instance`). The serializer also throws
 * on a missing `required` field, so only objects the gateway builds itself list required fields;
 * what an MCP server or another instance supplies (tools, `mcp_error`, session entries) does not.
 */

const open = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  additionalProperties: true,
});

const ERROR_BODY = open(
  {
    error: { type: 'string', description: 'What went wrong, for people' },
    mcp_error: open({ code: { type: 'integer' }, message: { type: 'string' }, data: {} }),
  },
  ['error'],
);

const ERROR_STATUSES = {
  400: 'Invalid request: a name, the body or a parameter (or an MCP -32602/-32601 error, with `mcp_error`)',
  401: 'Authentication required (Basic or Bearer)',
  404: 'Unknown service, tool or session',
  413: 'Request body too large',
  415: 'Unsupported content type',
  429: 'Rate limit exceeded (`Retry-After`, `X-RateLimit-*`)',
  500: 'Gateway bug (logged with a stack trace; never in the body)',
  502: 'The MCP server failed to start, exited during the call, or answered with an MCP error (`mcp_error`)',
  503: 'Session limit reached or the gateway is shutting down (`Retry-After`)',
  504: 'Tool call timed out',
} as const;

type ErrorStatus = keyof typeof ERROR_STATUSES;

function responses(ok: Record<string, unknown>, okDescription: string, statuses: ErrorStatus[]): Record<string, unknown> {
  const all: Record<string, unknown> = { 200: { description: okDescription, ...ok } };
  for (const status of statuses) all[status] = { description: ERROR_STATUSES[status], ...ERROR_BODY };
  return all;
}

const SERVICE_NAME = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' };
const TOOL_NAME = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' };
const SESSION_ID = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' };
const TIMESTAMP = { type: 'string', format: 'date-time' };
const OPEN_OBJECT = { type: 'object', additionalProperties: true };
/** Authenticated routes: every one can refuse credentials, be rate-limited and fail. */
const AUTHENTICATED: ErrorStatus[] = [401, 429, 500];

const MCP_TOOL = open(
  {
    name: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    inputSchema: OPEN_OBJECT,
    outputSchema: OPEN_OBJECT,
    annotations: OPEN_OBJECT,
  },
);

const SESSION_SERVICE = open(
  {
    created_at: TIMESTAMP,
    last_accessed: TIMESTAMP,
    calls: { type: 'integer' },
    pid: { type: ['integer', 'null'], description: 'Process id of the session\'s MCP server (absent or null for remote servers)' },
  },
);

export const HEALTH_SCHEMA = {
  summary: 'Liveness',
  tags: ['operations'],
  security: [],
  response: responses(
    open(
      {
        status: { type: 'string', enum: ['healthy', 'degraded'], description: 'degraded while a service has failed to start' },
        timestamp: TIMESTAMP,
        version: { type: 'string' },
        services: { type: 'object', additionalProperties: { type: 'string' }, description: 'Each enabled service\'s state: starting, ready or failed' },
      },
      ['status', 'timestamp', 'version'],
    ),
    'The gateway is up',
    [500],
  ),
};

export const SERVICES_SCHEMA = {
  summary: 'Enabled services',
  tags: ['rest'],
  response: responses(
    {
      type: 'object',
      additionalProperties: open(
        {
          description: { type: 'string' },
          enabled: { type: 'boolean' },
          tools: { type: ['integer', 'null'], description: 'Number of tools, null while unknown' },
          status: { type: 'string', description: 'starting, ready or failed' },
          error: { type: 'string', description: 'Why the last start failed' },
          next_retry: { ...TIMESTAMP, description: 'When a failed service is tried again' },
          failures: { type: 'integer', description: 'Starts failed in a row' },
        },
        ['description', 'enabled', 'tools', 'status'],
      ),
    },
    'Services keyed by name (command lines are never published)',
    AUTHENTICATED,
  ),
};

export const TOOLS_SCHEMA = {
  summary: "A service's tools",
  tags: ['rest'],
  params: open({ name: SERVICE_NAME }, ['name']),
  response: responses(
    open({ service: { type: 'string' }, tools: { type: 'array', items: MCP_TOOL } }, ['service', 'tools']),
    'The MCP tool objects of the service, from the cached catalogue',
    [400, 404, 502, 503, 504, ...AUTHENTICATED],
  ),
};

export const CALL_SCHEMA = {
  summary: 'Call a tool in a session',
  description: 'The first call for (session_id, service) starts the service\'s MCP server for that session.',
  tags: ['rest'],
  params: open({ name: SERVICE_NAME }, ['name']),
  body: open(
    {
      tool: TOOL_NAME,
      session_id: SESSION_ID,
      arguments: OPEN_OBJECT,
      timeout: { type: 'number', exclusiveMinimum: 0, maximum: 3600, description: 'Idle timeout (s) of the session this call creates' },
      metadata: OPEN_OBJECT,
    },
    ['tool', 'session_id'],
  ),
  response: responses(
    open(
      {
        session_id: { type: 'string' },
        service: { type: 'string' },
        tool: { type: 'string' },
        result: { type: 'string', description: 'The text of the result, as the agents SDK skill reads it' },
        content: { type: 'array', items: OPEN_OBJECT, description: 'The MCP content blocks, untouched' },
        structured_content: { description: 'MCP structuredContent, when the server sent it' },
        is_error: { type: 'boolean', description: 'MCP isError: a tool error is still HTTP 200' },
        session_created: { type: 'boolean', description: 'This call started the MCP server (earlier state, if any, is gone)' },
      },
      ['session_id', 'service', 'tool', 'result', 'content', 'is_error', 'session_created'],
    ),
    'The tool answered (possibly with a tool error)',
    [400, 404, 413, 415, 502, 503, 504, ...AUTHENTICATED],
  ),
};

export const SESSIONS_SCHEMA = {
  summary: 'Live sessions',
  tags: ['rest'],
  response: responses(
    {
      type: 'object',
      additionalProperties: open(
        {
          service_name: { type: 'string' },
          created_at: TIMESTAMP,
          last_accessed: TIMESTAMP,
          timeout: { type: 'number' },
          metadata: OPEN_OBJECT,
          time_remaining: { type: 'number' },
          services: { type: 'object', additionalProperties: SESSION_SERVICE },
        },
      ),
    },
    'Sessions keyed by id; `services` holds every service the id uses',
    AUTHENTICATED,
  ),
};

export const DELETE_SESSION_SCHEMA = {
  summary: "End a session's servers",
  tags: ['rest'],
  params: open({ id: SESSION_ID }, ['id']),
  response: responses(open({ message: { type: 'string' } }, ['message']), 'The session is closing', [400, 404, ...AUTHENTICATED]),
};
