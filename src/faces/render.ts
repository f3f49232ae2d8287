import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/client';
import { isPlainObject } from '../json.js';

/**
 * One text rendering of an MCP tool result, shared by the REST `result` field and the SWAIG
 * `response` (SPEC §4.1, §9). Pure and defensive: results come from arbitrary MCP servers, so
 * every field is checked at runtime even where the SDK type promises it.
 */
export function renderResultText(result: CallToolResult): string {
  const content: unknown[] = Array.isArray(result.content) ? result.content : [];
  const hasStructured = result.structuredContent !== undefined;
  // SPEC §4.1: with nothing to render at all, the reference hands back the whole result object.
  if (content.length === 0 && !hasStructured) return JSON.stringify(result);

  const rendered = content.map(renderBlock);
  const hasText = rendered.some((block) => block.isText && block.text.length > 0);
  if (!hasText && hasStructured) {
    // The structured value stands in for the missing text; placeholders for images and the like
    // still follow so the model learns they exist.
    const others = rendered.filter((block) => !block.isText).map((block) => block.text);
    return [JSON.stringify(result.structuredContent), ...others].join('\n');
  }
  return rendered.map((block) => block.text).join('\n');
}

interface RenderedBlock {
  text: string;
  /** True when the block carries real text (a text block or an embedded text resource). */
  isText: boolean;
}

type BlockRenderer = (block: Record<string, unknown>) => RenderedBlock;

// Keyed by the SDK's block types so a new MCP content type shows up here as a type error.
const RENDERERS = {
  text: (block) => ({ text: typeof block.text === 'string' ? block.text : '', isText: true }),
  image: (block) => mediaPlaceholder('image', block),
  audio: (block) => mediaPlaceholder('audio', block),
  resource_link: (block) => ({ text: resourcePlaceholder(block.uri), isText: false }),
  resource: (block) => {
    const resource = isPlainObject(block.resource) ? block.resource : {};
    if (typeof resource.text === 'string') return { text: resource.text, isText: true };
    return { text: resourcePlaceholder(resource.uri), isText: false };
  },
} satisfies Record<ContentBlock['type'], BlockRenderer>;

function renderBlock(block: unknown): RenderedBlock {
  if (!isPlainObject(block)) return { text: '[unknown]', isText: false };
  const type = typeof block.type === 'string' ? block.type : 'unknown';
  // Servers on newer protocol revisions may send block types this SDK does not know.
  const render: BlockRenderer | undefined = Object.hasOwn(RENDERERS, type)
    ? RENDERERS[type as keyof typeof RENDERERS]
    : undefined;
  return render ? render(block) : { text: `[${type}]`, isText: false };
}

function mediaPlaceholder(kind: string, block: Record<string, unknown>): RenderedBlock {
  return { text: `[${kind}: ${mimeTypeOf(block)}, ${formatBytes(base64Size(block.data))}]`, isText: false };
}

function mimeTypeOf(block: Record<string, unknown>): string {
  return typeof block.mimeType === 'string' && block.mimeType !== '' ? block.mimeType : 'unknown type';
}

function resourcePlaceholder(uri: unknown): string {
  return typeof uri === 'string' && uri !== '' ? `[resource: ${uri}]` : '[resource]';
}

/** Decoded size of base64 data, computed from its length so megabytes are never decoded. */
function base64Size(data: unknown): number {
  if (typeof data !== 'string') return 0;
  const compact = data.replace(/[\s=]/g, '');
  return Math.floor((compact.length * 3) / 4);
}

/** SI units (1 kB = 1000 B) with one decimal; whole bytes below 1 kB. */
function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const kilobytes = (bytes / 1000).toFixed(1);
  // Decide on the rounded value so 999,999 B reads "1.0 MB", not "1000.0 kB".
  if (Number(kilobytes) < 1000) return `${kilobytes} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

