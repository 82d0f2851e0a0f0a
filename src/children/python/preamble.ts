/**
 * Python run first in the sandbox, before any user code. With a private file system (the run has its own mount
 * namespace) it mounts the run directory over /tmp, /var/tmp and /dev/shm and makes every other mount read-only,
 * so a run sees no other run's files and can leave nothing behind outside its directory. It then applies the
 * resource limits to its own process (inherited by everything it starts), drops root to the given uid, gives up
 * every capability for good, and replaces itself with a fresh interpreter running main.py. If any step fails it
 * exits 125 without running the code.
 * Arguments: memory bytes, CPU seconds, file size bytes, processes, open files, uid (-1: keep), count-own (0/1),
 * private file system (0/1). With count-own, the process limit is added to the processes the user already runs,
 * since outside a user namespace and without a uid of its own the kernel counts all of them.
 */
export const SANDBOX_PREAMBLE = `
import ctypes, os, resource, sys

MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
# statvfs flags that are also mount flags with the same values: rdonly, nosuid, nodev, noexec, sync, mandlock,
# noatime, nodiratime, relatime. A read-only remount keeps them, since dropping one would loosen the mount.
KEPT_MOUNT_FLAGS = 1 | 2 | 4 | 8 | 16 | 64 | 1024 | 2048 | 4096
PRIVATE_DIRS = ('/var/tmp', '/dev/shm', '/tmp')
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
CAPABILITY_VERSION_3 = 0x20080522
libc = ctypes.CDLL(None, use_errno=True)

def check(result, what):
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, '%s: %s' % (what, os.strerror(error)))

def mount(source, target, flags):
    check(libc.mount(source, target.encode(), None, flags, None), 'mount ' + target)

def mount_points():
    with open('/proc/self/mountinfo', 'rb') as table:
        for line in table:
            yield line.split()[4].decode('unicode_escape')

def make_private():
    # /tmp last: once the run directory covers it, the directory's own path under /tmp no longer resolves.
    private = [path for path in PRIVATE_DIRS if os.path.isdir(path)]
    for path in private:
        mount(b'.', path, MS_BIND)
    for path in mount_points():
        if path in private:
            continue
        try:
            flags = os.statvfs(path).f_flag & KEPT_MOUNT_FLAGS
            mount(None, path, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        except OSError as error:
            # A mount hidden under a later one (the fresh /proc covers the host's) has no path of its own left.
            if error.errno not in (2, 22):
                raise
    if not os.statvfs('/').f_flag & MS_RDONLY:
        raise OSError('the root file system is still writable')
    os.chdir('/tmp')

def owned_processes(uid):
    count = 0
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                count += os.stat('/proc/' + entry).st_uid == uid
            except OSError:
                pass
    return count

def drop_bounding_set():
    # Needs CAP_SETPCAP, so it comes before the uid changes; without it (an ordinary user) there is nothing to drop.
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1

def capability_sets():
    with open('/proc/self/status') as status:
        return {line[3:6]: int(line.split()[1], 16) for line in status if line.startswith('Cap')}

def drop_capabilities():
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'no_new_privs')
    header = (ctypes.c_uint32 * 2)(CAPABILITY_VERSION_3, 0)
    # A seccomp filter may refuse capset (systemd's ~@privileged); exec still grants nothing when the inheritable set
    # is empty and, for uid 0, the bounding set too (no_new_privs makes file capabilities and set-user-ID inert).
    libc.capset(header, (ctypes.c_uint32 * 6)())
    sets = capability_sets()
    if sets['Inh'] or (os.getuid() == 0 and sets['Bnd']):
        raise OSError('capabilities would survive: %r' % (sets,))

def main():
    memory, cpu, fsize, nproc, nofile, uid, count_own, private = (int(value) for value in sys.argv[1:9])
    if private:
        make_private()
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
    drop_bounding_set()
    if uid >= 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    drop_capabilities()
    os.execv(sys.executable, [sys.executable, '-I', '-B', '-X', 'utf8', 'main.py'])

try:
    main()
except BaseException as error:
    sys.stderr.write('sandbox setup failed: %s\\n' % (error,))
    sys.stderr.flush()
    os._exit(125)
`;
