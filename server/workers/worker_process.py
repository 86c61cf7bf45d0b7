"""Inside a worker process: read jobs from the server's socket, run them one at a time, answer.

Jobs arrive as `(job id, function, arguments)`, or `(job id, None, None)` to withdraw a job that
has not started (the server has sent it elsewhere). The worker reads everything waiting on its
socket before each job and answers in batches: the answers of the jobs it ran one after another
go back in one write, when no job is left waiting. Under load the server and its workers thus
wake each other once per batch rather than twice per job, which on a shared core is most of
what a short lookup costs (bench/RESULTS.md). So that an answer never waits behind a long job,
a watchdog thread sends the finished answers as soon as the job after them has run for a few
milliseconds.

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
# How long finished answers may wait for the job after them before they are sent on their own.
FLUSH_AFTER = 0.002
_READ_SIZE = 1 << 20


class _Loop:
    """The worker's state: the socket, the jobs read and not yet run, the answers not yet sent."""

    def __init__(self, sock: socket.socket, demote_after: float):
        self._sock = sock
        self._demote_after = demote_after if DEMOTION_SUPPORTED else 0.0
        self._inbox = bytearray()
        self._jobs: deque[tuple[int, Callable[..., Any], tuple[Any, ...]]] = deque()
        self._outbox: list[bytes] = []
        # Guards the outbox, the socket's sending side and what follows, shared with the watchdog.
        self._lock = threading.Lock()
        self._job_started = threading.Condition(self._lock)
        self._running: tuple[int, float] | None = None  # the runner's native thread id, when its job started
        self._demoted = False  # the running job's thread has been demoted
        self._retired: int | None = None  # the demoted runner, which hands the loop over after its job
        self._turn = threading.Lock()  # held by the thread running the loop
        self.finished = threading.Event()  # the server closed the socket

    def serve(self) -> None:
        """Run the loop in the calling thread until the server closes the socket or this thread is retired."""
        with self._turn:
            while not self.finished.is_set():
                if self._retired == threading.get_native_id():
                    return  # demoted: the successor waiting for the turn goes on
                self._step()

    def _step(self) -> None:
        if not self._jobs:
            self._send()
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
            self._outbox.append(answer)

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

    def _send(self) -> None:
        with self._lock:
            self._send_locked()

    def _send_locked(self) -> None:
        if self._outbox:
            answers, self._outbox = b"".join(self._outbox), []
            self._sock.sendall(answers)

    def watch(self) -> None:
        """The watchdog: while a job runs, send the answers waiting behind it, and demote it if it runs long."""
        tick = FLUSH_AFTER if self._demote_after <= 0 else min(FLUSH_AFTER, self._demote_after / 2)
        while True:
            with self._lock:
                while self._running is None:
                    self._job_started.wait()
            time.sleep(tick)
            with self._lock:
                if self._running is None:
                    continue
                native_id, started = self._running
                ran = time.monotonic() - started
                if ran >= FLUSH_AFTER:
                    self._send_locked()
                if self._demote_after and not self._demoted and ran >= self._demote_after:
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
    if hasattr(os, "SCHED_BATCH"):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    loop = _Loop(sock, demote_after)
    threading.Thread(target=loop.watch, name="job-watchdog", daemon=True).start()
    loop.serve()
    # Retired (demoted) or done: the process lives until the server closes the socket.
    loop.finished.wait()
