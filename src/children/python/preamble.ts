/**
 * Python run first in the sandbox, before any user code: it applies the resource limits to its own process
 * (inherited by everything it starts), drops root to the given uid, then replaces itself with a fresh interpreter
 * running main.py. If any step fails it exits 125 without running the code.
 * Arguments: memory bytes, CPU seconds, file size bytes, processes, open files, uid (-1: keep), count-own (0/1).
 * With count-own, the process limit is added to the processes the user already runs, since outside a user
 * namespace the kernel counts all of them.
 */
export const SANDBOX_PREAMBLE = `
import os, resource, sys

def owned_processes(uid):
    count = 0
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                count += os.stat('/proc/' + entry).st_uid == uid
            except OSError:
                pass
    return count

def main():
    memory, cpu, fsize, nproc, nofile, uid, count_own = (int(value) for value in sys.argv[1:8])
    if count_own and os.path.isdir('/proc'):
        nproc += owned_processes(os.getuid() if uid < 0 else uid)
    limits = (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_FSIZE, fsize, fsize),
        (resource.RLIMIT_NPROC, nproc, nproc),
        (resource.RLIMIT_NOFILE, nofile, nofile),
        (resource.RLIMIT_CORE, 0, 0),
    )
    for which, soft, hard in limits:
        current = resource.getrlimit(which)[1]
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(which, (soft, hard))
    if uid >= 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    os.execv(sys.executable, [sys.executable, '-I', '-B', '-X', 'utf8', 'main.py'])

try:
    main()
except BaseException as error:
    sys.stderr.write('sandbox setup failed: %s\\n' % (error,))
    sys.stderr.flush()
    os._exit(125)
`;
