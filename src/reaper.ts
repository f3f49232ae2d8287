/**
 * The reaper: a small process each contained gateway starts next to itself. It waits for its
 * gateway's pipe to close; the gateway closes it only after removing its instance record, so if
 * the record is still there the gateway died without cleaning up (SIGKILL, the OOM killer), and
 * the reaper sweeps the instance at once: setsid grandchildren, cgroups, uids, directories.
 * Like cli.ts an entry point of its own: the only other module that reads argv and exits.
 *   node reaper.js <sandbox root> <instance>
 */
import { sweepInstance } from './upstream/containment/instance.js';

const [sandboxRoot, instance] = process.argv.slice(2);
if (sandboxRoot === undefined || instance === undefined) process.exit(2);
process.stdin.resume();
process.stdin.once('close', () => {
  void sweepInstance(sandboxRoot, instance, { assumeDead: true }).finally(() => process.exit(0));
});
