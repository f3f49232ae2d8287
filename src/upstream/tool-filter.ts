/**
 * Which of a server's tools the gateway offers (a service's `tools` section): allow and deny globs,
 * description overrides, and never a tool this gateway cannot serve. Applied where the catalogue
 * stores a list, so every face (REST, SWAIG) and every call sees the same tools.
 */
import type { Tool } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
import type { ServiceConfig, ToolsConfig } from '../config/types.js';

/** `*` any run of characters, `?` one character, everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const source = [...glob].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's');
}

/**
 * Why the gateway cannot serve `tool`, if it cannot: a tool that only runs as an MCP task
 * (`execution.taskSupport: "required"`) answers a plain tools/call with an error, every time.
 */
function unservable(tool: Tool): string | undefined {
  const execution = (tool as { execution?: { taskSupport?: unknown } }).execution;
  return execution?.taskSupport === 'required' ? 'it runs only as an MCP task, which the gateway does not use' : undefined;
}

type Filter = (tools: Tool[]) => Tool[];

function filterFor(service: string, config: ToolsConfig, logger: Logger): Filter {
  const allow = config.allow.map(globToRegExp);
  const deny = config.deny.map(globToRegExp);
  const reported = new Set<string>();
  return (tools) =>
    tools.flatMap((tool) => {
      const reason = unservable(tool);
      if (reason !== undefined) {
        // Once per tool: the list is stored again on every refresh.
        if (!reported.has(tool.name)) logger.info({ service, tool: tool.name }, `tool left out: ${reason}`);
        reported.add(tool.name);
        return [];
      }
      if (!allow.some((glob) => glob.test(tool.name)) || deny.some((glob) => glob.test(tool.name))) return [];
      const description = config.descriptions[tool.name];
      return [description === undefined ? tool : { ...tool, description }];
    });
}

/** The catalogue's `offered` hook for these services. */
export function createToolFilter(services: Record<string, ServiceConfig>, logger: Logger): (service: string, tools: Tool[]) => Tool[] {
  const filters = new Map(Object.values(services).map((service) => [service.name, filterFor(service.name, service.tools, logger)]));
  return (service, tools) => filters.get(service)?.(tools) ?? tools;
}
