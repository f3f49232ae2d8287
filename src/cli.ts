import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { embeddedDefaultConfig } from './config/defaults.js';
import { ConfigError } from './config/errors.js';
import { exposedCredentialsWarning } from './config/file-exposure.js';
import { credentialProblems, loadConfigFile, UNKNOWN_KEY_WARNING } from './config/load.js';
import type { Config } from './config/types.js';
import { swaigSetupWarnings } from './faces/swaig/setup-warnings.js';
import { createGateway, type Gateway, type StartReport } from './gateway.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';

/**
 * Exit statuses: 0 ok, 1 `--check` found a problem (a service failed, an unknown key) or the
 * gateway failed at runtime, 2 bad config or usage.
 */
const EXIT_CONFIG = 2;
const EXIT_CHECK_FAILED = 1;

interface CliOptions {
  config?: string;
  check?: boolean;
}

/** The only module that reads argv, handles signals and calls process.exit. */
async function main(): Promise<void> {
  const program = new Command()
    .name('mcp-gateway')
    .description('Gateway between SignalWire AI agents and MCP servers: REST and native SWAIG over supervised per-call MCP servers')
    .option('-c, --config <path>', 'configuration file (default: ./config.json, else the embedded demo config)')
    .option('--check', 'validate the config, start each enabled service once, report, and exit')
    .version(VERSION, '--version')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_CONFIG))
    .parse(process.argv);
  const options = program.opts<CliOptions>();

  const warnings: Array<{ message: string; path: string; variable?: string }> = [];
  const onWarning = (message: string, path: string, variable?: string): void => void warnings.push({ message, path, variable });
  let config: Config;
  let source: string;
  const configPath = options.config ?? 'config.json';
  const isEmbedded = options.config === undefined && !existsSync(configPath);
  try {
    if (isEmbedded) {
      config = embeddedDefaultConfig(process.env);
      source = 'embedded default config (bundled demo to-do service)';
    } else {
      source = configPath;
      config = await loadConfigFile(source, { env: process.env, onWarning });
    }
  } catch (error) {
    return fail(error instanceof ConfigError ? error.message : `${configPath}: ${(error as Error).message}`);
  }
  const credentials = credentialProblems(config);
  if (credentials.errors.length > 0) {
    const unset = warnings.filter((warning) => warning.variable !== undefined && warning.path.startsWith('server.auth_'));
    const note = unset.map((warning) => ` (${warning.path} comes from \${${warning.variable}}, which is not set)`).join('');
    return fail(`${source}: ${credentials.errors.join('; ')}${note}`);
  }
  // A check is where a typo must surface: at run time an unknown key is only a warning.
  const unknownKeys = warnings.filter((warning) => warning.message === UNKNOWN_KEY_WARNING);
  if (options.check && unknownKeys.length > 0) {
    for (const { path } of unknownKeys) process.stderr.write(`mcp-gateway: ${source}: unknown config key ${path}\n`);
    process.exit(EXIT_CHECK_FAILED);
  }

  let log;
  try {
    log = await createLogger({ level: config.logging.level, file: config.logging.file });
  } catch (error) {
    return fail(`${source}: logging.file: ${(error as Error).message}`);
  }
  const { logger } = log;
  logger.info({ source, version: VERSION }, 'configuration loaded');
  for (const { message, path } of warnings) logger.warn({ path }, message);
  for (const warning of credentials.warnings) logger.warn({ event: 'weak_credentials' }, warning);
  for (const warning of swaigSetupWarnings(config)) logger.warn({ event: 'swaig_setup' }, warning);
  const exposed = !isEmbedded ? await exposedCredentialsWarning(configPath, config) : undefined;
  if (exposed !== undefined) logger.warn({ event: 'config_readable_by_others' }, exposed);

  let gateway: Gateway;
  try {
    // A check starts each service once and stops: no warm servers to fill and drain.
    const effective = options.check ? withoutWarmPools(config) : config;
    gateway = await createGateway(effective, { logger, env: process.env });
  } catch (error) {
    return fail(`${source}: ${(error as Error).message}`);
  }
  process.once('exit', () => gateway.killAllNow());

  if (options.check) {
    const reports = await gateway.validateServices();
    process.stdout.write(serviceTable(reports));
    await gateway.close();
    await log.close();
    process.exit(reports.every((report) => report.ok) ? 0 : EXIT_CHECK_FAILED);
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: killing every server now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await gateway.close();
    logger.info('stopped');
    await log.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // SIGHUP reopens the log file and reloads the config (SPEC §15); reloads run one at a time.
  let reloading = Promise.resolve();
  const reload = async (): Promise<void> => {
    if (isEmbedded) return void logger.info('no config file to reload (embedded default config)');
    let next: Config;
    try {
      next = await loadConfigFile(source, { env: process.env, onWarning: (message, path) => logger.warn({ path }, message) });
      const problems = credentialProblems(next).errors;
      if (problems.length > 0) throw new ConfigError(source, problems.join('; '));
    } catch (error) {
      const { path, reason } = error instanceof ConfigError ? error : { path: undefined, reason: (error as Error).message };
      logger.error({ event: 'config_reload_failed', path, reason }, `configuration reload failed, running configuration kept: ${(error as Error).message}`);
      return;
    }
    await gateway.reload(next);
  };
  process.on('SIGHUP', () => {
    log.reopen();
    reloading = reloading.then(reload).catch((error: unknown) => logger.error({ err: error }, 'configuration reload failed'));
  });

  try {
    await gateway.app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    logger.fatal({ err: error }, 'cannot listen');
    await gateway.close();
    process.exit(1);
  }
  const scheme = gateway.isTls ? 'https' : 'http';
  const address = gateway.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  logger.info({ url: `${scheme}://${formatHost(config.server.host)}:${port}` }, 'listening');
  const reports = await gateway.validateServices();
  logger.info({ services: Object.fromEntries(reports.map((report) => [report.service, report.ok ? report.tools : report.error])) }, 'services');
  // The banner is for people: stdout carries the JSON log.
  process.stderr.write(`mcp-gateway ${VERSION} listening on ${scheme}://${formatHost(config.server.host)}:${port}\n${serviceTable(reports)}`);
}

/** One row per service: status, tool count, start time, and its protections or why it failed. */
function serviceTable(reports: StartReport[]): string {
  const rows = [
    ['SERVICE', 'STATUS', 'TOOLS', 'START', 'DETAIL'],
    ...reports.map((report) => [
      report.service,
      report.ok ? 'ok' : 'error',
      report.ok ? String(report.tools) : '-',
      `${report.ms} ms`,
      report.ok ? report.protections : (report.error ?? ''),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((text, column) => (column === row.length - 1 ? text : text.padEnd(widths[column]!))).join('  ')).join('\n') + '\n';
}

function withoutWarmPools(config: Config): Config {
  const services = Object.fromEntries(Object.entries(config.services).map(([name, service]) => [name, { ...service, warm_pool: 0 }]));
  return { ...config, services };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function fail(message: string): never {
  process.stderr.write(`mcp-gateway: ${message}\n`);
  process.exit(EXIT_CONFIG);
}

await main();
