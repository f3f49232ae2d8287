/** Session-level steps the bench repeats: open one with its first call, close many and watch them go. */
import { expectStatus, type JsonClient } from './http-client.js';
import { pollUntil, type LiveProcess } from './processes.js';

/** The tool each service is called with: the cheapest one it has. */
export const FIRST_CALL: Record<string, { tool: string; arguments: Record<string, unknown> }> = {
  echo: { tool: 'echo', arguments: { text: 'hello' } },
  todo: { tool: 'list_todos', arguments: {} },
  echo_bare: { tool: 'echo', arguments: { text: 'hello' } },
  echo_env_only: { tool: 'echo', arguments: { text: 'hello' } },
  echo_uncontained: { tool: 'echo', arguments: { text: 'hello' } },
  echo_sandboxed: { tool: 'echo', arguments: { text: 'hello' } },
};

/** One call through the gateway; throws unless it is a 200 with a text result that is not a tool error. */
export async function callService(client: JsonClient, service: string, sessionId: string): Promise<{ sessionCreated: boolean }> {
  const call = FIRST_CALL[service];
  if (call === undefined) throw new Error(`no bench call for service ${service}`);
  const { body } = expectStatus(
    await client.send('POST', `/services/${service}/call`, { tool: call.tool, session_id: sessionId, arguments: call.arguments }),
    200,
    `${service} call`,
  );
  if (body.is_error !== false || typeof body.result !== 'string') throw new Error(`${service} call failed: ${JSON.stringify(body).slice(0, 300)}`);
  return { sessionCreated: body.session_created === true };
}

/** Process-group ids of the open sessions' servers, as GET /sessions reports them (SPEC §4.2). */
export async function sessionPids(client: JsonClient): Promise<Map<string, number[]>> {
  const { body } = expectStatus(await client.send('GET', '/sessions'), 200, 'GET /sessions');
  const pids = new Map<string, number[]>();
  for (const [id, session] of Object.entries(body as Record<string, { services: Record<string, { pid: number }> }>)) {
    pids.set(id, Object.values(session.services).map((service) => service.pid));
  }
  return pids;
}

/** DELETE /sessions/<id> for each id; the gateway answers before the processes have exited. */
export async function deleteSessions(client: JsonClient, ids: Iterable<string>): Promise<void> {
  for (const id of ids) expectStatus(await client.send('DELETE', `/sessions/${encodeURIComponent(id)}`), 200, `DELETE /sessions/${id}`);
}

/** Live processes that belong to the given sessions' process groups. */
export function survivors(live: readonly LiveProcess[], groups: ReadonlySet<number>): LiveProcess[] {
  return live.filter((process) => groups.has(process.pgid));
}

/**
 * Waits (bounded) until no process of the given groups is alive; returns those still alive at the
 * deadline. SPEC §5's close ladder takes at most ~4 s per session, so the deadline allows for that.
 */
export async function waitForGroupsGone(
  processes: () => Promise<LiveProcess[]>,
  groups: ReadonlySet<number>,
  deadlineMs: number,
): Promise<LiveProcess[]> {
  let left: LiveProcess[] = [];
  await pollUntil(async () => {
    left = survivors(await processes(), groups);
    return left.length === 0;
  }, deadlineMs);
  return left;
}

/** Runs `run` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
