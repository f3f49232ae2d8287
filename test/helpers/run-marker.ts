/**
 * Every process a test starts carries this marker in its environment, so the global teardown can
 * prove that no process of ours outlived the run.
 */
export const RUN_MARKER_KEY = 'MCP_GATEWAY_TEST_RUN';
export const runMarker = (): string => process.env[RUN_MARKER_KEY] ?? 'unset';
