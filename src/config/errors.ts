/**
 * A configuration problem. Only cli.ts turns it into exit status 2 (SPEC §2), so it stays apart from
 * GatewayError; the message is the one line the operator reads.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    /** The file (or "embedded default") the configuration came from. */
    readonly source: string,
    readonly reason: string,
    /** Dotted key path, e.g. "services.todo.call_timeout"; absent for whole-file problems. */
    readonly path?: string,
    options?: ErrorOptions,
  ) {
    // One line, whatever a reason quoted: the CLI prints it as the whole diagnosis.
    super(oneLine(path === undefined ? `${source}: ${reason}` : `${source}: ${path}: ${reason}`), options);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}
