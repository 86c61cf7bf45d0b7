"""What a worker process may reach, enforced by the kernel, whatever the query or file it is given.

The query text is checked before a query runs (sparql_text: SERVICE and FROM refused unless
allowed), but a text check can disagree with the engine's parser: once, an escaped `#` in a
prefixed name made our lexer skip a SERVICE that pyoxigraph then ran. So safety does not rest
on it. Every worker (queries, validations, dumps) contains itself when it starts, before it
reads any job, with each of these layers that the machine offers; any one of them alone keeps
the engine off the network:

1. **A network namespace of its own** (a new user namespace, so no root is needed): the worker
   sees only its own, empty loopback; no address of this machine or any other exists for it.
   Used only when the worker needs no network at all (no SERVICE allowlist), since the
   federation relay listens in the server's namespace.
2. **Landlock** (Linux 6.7+, ABI 4): TCP connect and bind are handled, and the only rule
   allows connecting to the federation relay's port, or none. With ABI 6, the worker is
   also scoped: it cannot signal processes outside its domain (the server) nor connect to
   abstract Unix sockets outside it.
3. **seccomp** (libseccomp, through pyseccomp): `socket()` fails with EACCES for every address
   family, except TCP over IPv4/IPv6 when the relay must be reached (no UDP: no DNS, so no
   name can be looked up for a leak); `io_uring_setup` fails, since io_uring opens sockets
   without the `socket()` system call.

A worker also gets a memory cap (RLIMIT_AS) and dies with the server (PR_SET_PDEATHSIG, and
a check that its parent is still the server, in case it died before the signal was armed).

`probe()` applies the same layers in a throwaway process and tries to connect to a listener
on loopback: what it reports is what the kernel enforced, not what the code intended.
"""

import ctypes
import ctypes.util
import errno
import multiprocessing
import os
import resource
import signal
import socket
from dataclasses import dataclass, field

LAYERS = ("netns", "landlock", "seccomp")

_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000

# Landlock's system calls have these numbers on every architecture (they came after the tables merged).
_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_ACCESS_NET_BIND_TCP = 1 << 0
_LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1
_LANDLOCK_RULE_NET_PORT = 2
_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_LANDLOCK_SCOPE_SIGNAL = 1 << 1


class _RulesetAttr(ctypes.Structure):
    # struct landlock_ruleset_attr (include/uapi/linux/landlock.h); `scoped` from ABI 6.
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _NetPortAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


@dataclass(frozen=True)
class Policy:
    """What a worker may reach: the federation relay's TCP port, or (None) nothing at all."""

    relay_port: int | None = None
    memory_bytes: int = 0  # the worker's address-space cap; 0: none
    parent_pid: int | None = None  # the server: the worker ends when it does
    layers: tuple[str, ...] = LAYERS  # which layers to apply (tests apply one at a time)


@dataclass
class Applied:
    """The layers a worker put in place, and why any other was not."""

    layers: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers (0: none)."""
    libc = _libc()
    version = libc.syscall(
        _SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION)
    )
    return max(version, 0)


def _enter_network_namespace() -> None:
    libc = _libc()
    uid, gid = os.geteuid(), os.getegid()
    _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET), "unshare")
    # Map the worker's own ids, so that it keeps them (and files it writes keep their owner).
    for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"{uid} {uid} 1"),
                       ("/proc/self/gid_map", f"{gid} {gid} 1")):
        with open(path, "w") as target:
            target.write(text)


def _restrict_with_landlock(relay_port: int | None) -> None:
    abi = landlock_abi()
    if abi < 4:
        raise OSError(errno.ENOSYS, f"Landlock network rules need ABI 4 (Linux 6.7); the kernel offers {abi or 'none'}")
    libc = _libc()
    scoped = _LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | _LANDLOCK_SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(0, _LANDLOCK_ACCESS_NET_BIND_TCP | _LANDLOCK_ACCESS_NET_CONNECT_TCP, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else ctypes.sizeof(ctypes.c_uint64) * 2
    ruleset = _check(libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                                  ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        if relay_port is not None:
            rule = _NetPortAttr(_LANDLOCK_ACCESS_NET_CONNECT_TCP, relay_port)
            _check(libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_NET_PORT, ctypes.byref(rule),
                                ctypes.c_uint32(0)), "landlock_add_rule")
        _check(libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _filter_system_calls(relay_port: int | None) -> None:
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:  # OSError: libseccomp.so.2 is not installed
        raise OSError(errno.ENOSYS, f"libseccomp is not available ({error})") from None
    refuse = seccomp.ERRNO(errno.EACCES)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    rules.add_rule(seccomp.ERRNO(errno.EPERM), "io_uring_setup")
    if relay_port is None:
        rules.add_rule(refuse, "socket")
    else:
        allowed = (socket.AF_INET, socket.AF_INET6)
        # Address families are small numbers (AF_MAX is below 64); refuse every other one.
        for family in range(64):
            if family not in allowed:
                rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.EQ, family))
        rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.GE, 64))
        # The low bits of the type say what the socket is (SOCK_NONBLOCK and SOCK_CLOEXEC sit above them).
        for family in allowed:
            for kind in range(16):
                if kind != socket.SOCK_STREAM:
                    rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.EQ, family),
                                   seccomp.Arg(1, seccomp.MASKED_EQ, 0xF, kind))
    rules.load()


_APPLY = {
    "netns": lambda policy: _enter_network_namespace() if policy.relay_port is None else None,
    "landlock": lambda policy: _restrict_with_landlock(policy.relay_port),
    "seccomp": lambda policy: _filter_system_calls(policy.relay_port),
}


def apply(policy: Policy) -> Applied:
    """Contain the calling process (a worker, single-threaded when it starts) by the policy.

    Each layer is tried on its own; one the machine does not offer is noted in `missing`.
    """
    applied = Applied()
    libc = _libc()
    # Landlock and seccomp without privileges both need no_new_privs; it is right for a worker anyway.
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for layer in policy.layers:
        if layer == "netns" and policy.relay_port is not None:
            applied.missing[layer] = "the worker must reach the federation relay"
            continue
        try:
            _APPLY[layer](policy)
        except OSError as error:
            applied.missing[layer] = str(error)
        else:
            applied.layers.append(layer)
    if policy.memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (policy.memory_bytes, policy.memory_bytes))
    if policy.parent_pid is not None:
        # Armed last: a change of credentials (the user namespace) clears it.
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != policy.parent_pid:
            os._exit(1)  # the server died before the signal was armed
    return applied


@dataclass(frozen=True)
class ProbeResult:
    """What a contained process could do: the layers in force, and whether it reached a listener."""

    layers: tuple[str, ...]
    missing: dict[str, str]
    reached_network: bool

    @property
    def contained(self) -> bool:
        return not self.reached_network and bool(self.layers)


def _probe_in_child(policy: Policy, port: int, answer: "multiprocessing.connection.Connection") -> None:
    applied = apply(policy)
    reached = True
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    except OSError:
        reached = False
    answer.send(ProbeResult(tuple(applied.layers), applied.missing, reached))


def probe(policy: Policy | None = None) -> ProbeResult:
    """Contain a throwaway process by the policy and see whether it can still connect to a local listener."""
    policy = policy or Policy()
    context = multiprocessing.get_context("spawn")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        # The probe's listener stands for everything else: the relay's port is not it.
        policy = Policy(None if policy.relay_port is None else port + 1 if port < 65535 else port - 1, 0, None, policy.layers)
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=_probe_in_child, args=(policy, port, sending), daemon=True)
        child.start()
        sending.close()
        try:
            if not receiving.poll(30):
                return ProbeResult((), {"probe": "the probe process did not answer"}, True)
            return receiving.recv()
        except EOFError:
            return ProbeResult((), {"probe": f"the probe process ended with {child.exitcode}"}, True)
        finally:
            child.join(5)
