"""Long jobs give way to short ones: in a worker process, a job that has run past a moment drops
to the lowest CPU priority (nice 19). On a busy machine a query that takes seconds then barely
slows the many that take milliseconds; on an idle one it runs as fast as before.

Linux gives each thread its own nice value, and lets an unprivileged thread lower its priority
but never raise it back, so a demoted thread stays demoted. Jobs therefore run in one thread
at a time, the *runner*: at first the worker's main thread (no hand-over between threads, which
costs more than a lookup), and once the runner has been demoted, a fresh thread. The watchdog
that demotes runners makes their successors too: threads inherit the priority of the thread
that starts them, and the watchdog is never demoted. A demoted runner finishes its job, then
ends (the main thread instead stays, handing its later jobs to the current runner).
"""

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

LOWEST_PRIORITY = 19
# Elsewhere than Linux a thread cannot be demoted alone: jobs simply run in the main thread.
SUPPORTED = sys.platform == "linux"


class _Runner:
    """A thread, started by the watchdog, that runs jobs handed to it until it is demoted."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], queue.SimpleQueue[tuple[bool, Any]]]] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name="job-runner", daemon=True)
        self.retired = False

    def call(self, job: Callable[[], Any]) -> Any:
        """Run job in this thread; its answer, or its exception raised here."""
        reply: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        self._jobs.put((job, reply))
        ok, value = reply.get()
        if not ok:
            raise value
        return value

    def _serve(self) -> None:
        while not self.retired:
            job, reply = self._jobs.get()
            try:
                reply.put((True, job()))
            except BaseException as error:  # handed to the caller, which raises it
                reply.put((False, error))


class Scheduler:
    """Runs a worker's jobs, demoting the thread of any job that runs past `demote_after` seconds."""

    def __init__(self, demote_after: float):
        self._demote_after = demote_after
        self._lock = threading.Lock()
        # The job running now: (its thread's native id, when it started), or None.
        self._running: tuple[int, float] | None = None
        self._runner: _Runner | None = None  # None: jobs run in the calling (main) thread
        threading.Thread(target=self._watch, name="job-watchdog", daemon=True).start()

    def run(self, job: Callable[[], Any]) -> Any:
        """Run job (a call without arguments) and return its answer; it is demoted if it runs long."""
        with self._lock:
            runner = self._runner
        if runner is None:
            return self._timed(job)
        return runner.call(lambda: self._timed(job))

    def _timed(self, job: Callable[[], Any]) -> Any:
        with self._lock:
            self._running = (threading.get_native_id(), time.monotonic())
        try:
            return job()
        finally:
            with self._lock:
                self._running = None

    def _watch(self) -> None:
        # Ticks rather than a wake-up per job: a job only notes when it started; the watchdog looks.
        tick = self._demote_after / 2
        while True:
            time.sleep(tick)
            with self._lock:
                running = self._running
                if running is not None and time.monotonic() - running[1] >= self._demote_after:
                    self._demote(running[0])

    def _demote(self, native_id: int) -> None:
        """Lower the running job's thread, and start its successor. Called with the lock held."""
        try:
            os.setpriority(os.PRIO_PROCESS, native_id, LOWEST_PRIORITY)
        except OSError:
            return  # the thread has ended
        self._running = None  # demoted once
        previous = self._runner
        if previous is not None:
            previous.retired = True
        successor = _Runner()
        successor.thread.start()
        self._runner = successor
