/**
 * A uid/gid for drop_privileges tests that no other process on the machine runs as. RLIMIT_NPROC
 * counts every task of the real uid, so under the default `nobody` a test failed whenever other
 * processes (anyone's) ran as nobody. Derived from the pid, so parallel test files differ too.
 */
export function privateUser(): { uid: number; gid: number } {
  const id = 2_000_000_000 + (process.pid % 1_000_000);
  return { uid: id, gid: id };
}
