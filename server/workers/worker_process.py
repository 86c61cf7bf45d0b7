"""Inside a worker process: read jobs from the server's socket, run them one at a time, answer.

Jobs arrive as `(job id, function, arguments)`, or `(job id, None, None)` to withdraw a job that
has not started (the server has sent it elsewhere). The worker reads everything waiting on its
socket before each job and sends each answer as soon as it has it: an answer never waits behind
a job, so the server always knows which job is running (the first of a worker's line that has not
been answered; the pool's withdrawals and kills rely on it). Under load the server writes all the
jobs of one turn of its event loop at once, and the worker finds them in one read.

Long jobs give way to short ones: a job that has run past `demote_after` seconds drops to the
lowest CPU priority (nice 19), so on a busy machine a query of seconds barely slows the many of
milliseconds. Linux gives each thread its own nice value and lets a thread lower its priority but
never raise it again, so the loop runs in a *runner* thread, at first the main one: when the
watchdog demotes the runner, it starts a successor at normal priority (threads inherit the
priority of the thread that starts them, and the watchdog is never demoted), which takes over the
loop as soon as the demoted runner has finished its job. No job is ever handed between threads.
"""

import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from server.workers import containment
from server.workers.frames import frame, unframe

LOWEST_PRIORITY = 19
# Elsewhere than Linux a thread cannot be demoted alone: jobs are then never demoted.
DEMOTION_SUPPORTED = sys.platform == "linux"
_READ_SIZE = 1 << 20


class _Loop:
    """The worker's state: the socket, the jobs read and not yet run, the running job."""

    def __init__(self, sock: socket.socket, demote_after: float):
        self._sock = sock
        self._demote_after = demote_after if DEMOTION_SUPPORTED else 0.0
        self._inbox = bytearray()
        self._jobs: deque[tuple[int, Callable[..., Any], tuple[Any, ...]]] = deque()
        # Guards what the watchdog reads: the running job and whether it was demoted. (The socket and the jobs
        # belong to the thread that holds the turn.)
        self._lock = threading.Lock()
        self._job_started = threading.Condition(self._lock)
        self._running: tuple[int, float] | None = None  # the runner's native thread id, when its job started
        self._demoted = False  # the running job's thread has been demoted
        self._retired: int | None = None  # the demoted runner, which hands the loop over after its job
        self._turn = threading.Lock()  # held by the thread running the loop
        self.finished = threading.Event()  # the server closed the socket

    @property
    def demotes(self) -> bool:
        """Whether long jobs are demoted here (a watchdog is then needed)."""
        return self._demote_after > 0

    def serve(self) -> None:
        """Run the loop in the calling thread until the server closes the socket or this thread is retired."""
        with self._turn:
            while not self.finished.is_set():
                if self._retired == threading.get_native_id():
                    return  # demoted: the successor waiting for the turn goes on
                self._step()

    def _step(self) -> None:
        if not self._jobs:
            if not self._receive(block=True):
                self.finished.set()
                return
        self._receive(block=False)
        if not self._jobs:
            return
        job_id, function, args = self._jobs.popleft()
        with self._lock:
            self._running = (threading.get_native_id(), time.monotonic())
            self._demoted = False
            self._job_started.notify()
        try:
            outcome: tuple[bool, Any] = (True, function(*args))
        except BaseException as error:  # noqa: BLE001 (the job's own failure, returned to the server)
            outcome = (False, error)
        try:
            answer = frame((job_id, *outcome))
        except Exception as error:  # noqa: BLE001 (an answer that cannot be pickled is the job's failure)
            answer = frame((job_id, False, RuntimeError(f"the job's answer could not be sent: {error!r}")))
        with self._lock:
            self._running = None
        # Sent at once, never held for a batch: a first version answered a batch in one write, with a watchdog to
        # send what waited behind a job that ran long; but a job inside native code holds the GIL, the watchdog then
        # could not send, and the server took a finished job for the running one (and ran the running one twice).
        self._sock.sendall(answer)

    def _receive(self, block: bool) -> bool:
        """Read what the server sent (waiting for something if block); False once it has closed the socket."""
        try:
            data = self._sock.recv(_READ_SIZE, 0 if block else socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        if not data:
            return False
        self._inbox += data
        for job_id, function, args in unframe(self._inbox):
            if function is not None:
                self._jobs.append((job_id, function, args))
                continue
            for waiting in self._jobs:  # a withdrawal: the job goes if it has not started
                if waiting[0] == job_id:
                    self._jobs.remove(waiting)
                    break
        return True

    def watch(self) -> None:
        """The watchdog: while a job runs, demote it once it has run `demote_after` seconds."""
        # Ticks while a job runs, rather than a wake-up per job: a job only notes when it started; the watchdog looks.
        tick = self._demote_after / 2
        while True:
            with self._lock:
                while self._running is None:
                    self._job_started.wait()
            time.sleep(tick)
            with self._lock:
                if self._running is not None and not self._demoted:
                    native_id, started = self._running
                    if time.monotonic() - started >= self._demote_after:
                        self._demote(native_id)

    def _demote(self, native_id: int) -> None:
        """Lower the running job's thread and start its successor. Called with the lock held."""
        try:
            os.setpriority(os.PRIO_PROCESS, native_id, LOWEST_PRIORITY)
        except OSError:
            return  # the thread has ended
        self._demoted = True
        self._retired = native_id
        threading.Thread(target=self.serve, name="job-runner", daemon=True).start()


def serve(
    sock: socket.socket, policy: containment.Policy | None, initializer: Callable[..., None] | None,
    initargs: tuple[Any, ...], demote_after: float,
) -> None:
    """A worker process's life: contain itself, initialise once, then run jobs until the server closes the socket."""
    if policy is not None:
        containment.apply(policy)
    # The pool kills a worker past its deadline with SIGKILL; SIGTERM comes when the server exits or from the
    # operator. A worker busy inside native code never gets to run a Python-level handler, so the default action,
    # immediate termination, is kept: a worker holds nothing that needs cleaning up.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if initializer is not None:
        initializer(*initargs)
    loop = _Loop(sock, demote_after)
    if loop.demotes:
        threading.Thread(target=loop.watch, name="job-watchdog", daemon=True).start()
    loop.serve()
    # Retired (demoted) or done: the process lives until the server closes the socket.
    loop.finished.wait()
