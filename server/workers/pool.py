"""The pool of worker processes every job runs in: queries, context walks, dumps and validations.

Persistent processes, started with `spawn` (the server runs threads, which fork does not copy
safely), each connected to the server by a socketpair carrying framed pickles (see frames and
worker_process). The server side is asyncio all the way, with no thread of its own.

Pipelining (`depth` above 1; the server's default is 1, bench/LOAD.md says why). A worker may be
given up to `depth` jobs at once; it runs them in order and sends each answer as soon as it has it
(so the first unanswered job of a line is the one running). The jobs of one turn of the event loop
queued behind a running one are written together, so under load one wake-up of a worker serves
several jobs, and a worker never waits for the server between them (bench/RESULTS.md); a job for
an idle worker is written at once. A job goes to the worker with the fewest jobs; it is not queued
behind a job that has already run for `long_after` seconds, and jobs queued behind one that
reaches that age are withdrawn and sent elsewhere. So a short job waits behind a long one for at
most `long_after`. Read-only jobs may thus run twice (once withdrawn too
late): pass `alone=True` for a job that must not (it then only goes to an idle worker, first in
line, and is never withdrawn). `long_after` is short (20 ms by default): a lookup takes well under a
millisecond, so a job that has run that long is not one to queue behind.

The deadline is the caller's (an `asyncio.timeout` opened when the request arrived): when it
passes, or when the client goes away, the job's task is cancelled. A job not yet started is
withdrawn; the running one cannot be interrupted (pyoxigraph cannot stop a query), so its worker
is killed, the jobs queued behind it are sent elsewhere, and a replacement starts in the
background. A worker that dies on its own (the kernel's memory cap, a crash in native code)
fails its running job with WorkerDiedError and its exit status, and is replaced too.

`reserved` workers are kept for jobs marked `reserved=True` (token holders'): anonymous jobs start
on at most `size - reserved` workers at a time, whichever they are (so a worker being replaced
after a kill does not shrink their share), as fair_share promises. Every worker contains itself by the pool's policy
(see containment: no network, a memory cap) before it runs anything.
"""

import asyncio
import itertools
import logging
import multiprocessing
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from server.workers import containment, worker_process
from server.workers.frames import frame, unframe

log = logging.getLogger("ilokg.workers")


class WorkerDiedError(Exception):
    """The worker process ended while it ran the job (killed by the kernel, or crashed)."""

    def __init__(self, exitcode: int | None):
        super().__init__(f"the worker process ended (exit code {exitcode})")
        self.exitcode = exitcode


@dataclass
class Progress:
    """Where a job is: `started` is the event loop's time when it came first in a worker's line (None until then)."""

    started: float | None = None


@dataclass(eq=False)
class _Job:
    id: int
    message: bytes
    future: asyncio.Future[Any]
    reserved: bool
    alone: bool
    progress: Progress
    worker: "_Worker | None" = None


@dataclass(eq=False)
class _Worker(asyncio.Protocol):
    """One worker process and the server's end of its socket (an asyncio protocol reading its answers)."""

    pool: "WorkerPool"
    slot: int
    process: BaseProcess
    transport: asyncio.Transport | None = None
    jobs: dict[int, _Job] = field(default_factory=dict)  # sent and not answered, in the order sent
    since: float = 0.0  # when its first job in line started (as far as the server can tell)
    outbox: list[bytes] = field(default_factory=list)
    inbox: bytearray = field(default_factory=bytearray)
    answered: bool = False  # it has answered a job (so it got through its initialisation)
    gone: bool = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.inbox += data
        for job_id, succeeded, value in unframe(self.inbox):
            self.pool._answered(self, job_id, succeeded, value)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.gone:
            self.pool._died(self)

    def send(self, message: bytes, at_once: bool = False) -> None:
        """Write a message to the worker: at once if asked (with whatever waits before it, in order), else at the
        end of this turn of the event loop, together with the turn's other messages."""
        self.outbox.append(message)
        if at_once:
            self._flush()
        elif len(self.outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        if self.outbox and self.transport is not None and not self.gone:
            self.transport.write(b"".join(self.outbox))
        self.outbox.clear()

    def head(self) -> _Job | None:
        """The first job of its line: the one running (or about to)."""
        return next(iter(self.jobs.values()), None)

    def queued(self) -> list[_Job]:
        """The jobs of its line behind the first."""
        return list(self.jobs.values())[1:]

    def stop(self, kill: bool) -> None:
        """Close the server's end of the socket (an idle worker then ends); kill the process too if asked."""
        self.gone = True
        if self.transport is not None:
            self.transport.close()
        if kill and self.process.is_alive():
            self.process.kill()


class WorkerPool:
    """A fixed number of worker processes, each given up to `depth` jobs at a time (see the module's docstring)."""

    def __init__(
        self, size: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (), *,
        policy: containment.Policy | None = None, depth: int = 1, long_after: float = 0.02, demote_after: float = 0.0,
        reserved: int = 0,
    ):
        self._size = size
        self._policy = policy
        self._initializer = initializer
        self._initargs = initargs
        self._depth = depth
        self._long_after = long_after
        self._demote_after = demote_after
        self.reserved = min(reserved, size - 1)  # at least one worker is always open to anonymous jobs
        self._context = multiprocessing.get_context("spawn")
        self._workers: dict[int, _Worker] = {}  # by slot
        self._failed_starts: dict[int, int] = {}  # by slot: workers in a row that died before answering anything
        self._waiting: deque[_Job] = deque()  # jobs no worker can take yet, in order of arrival
        self._ids = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        """Start the workers (each initialises in its own process; jobs sent meanwhile wait in its socket)."""
        for slot in range(self._size):
            await self._spawn(slot)
        if self._depth > 1:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def run(
        self, function: Callable[..., Any], *args: Any, reserved: bool = False, alone: bool = False,
        progress: Progress | None = None,
    ) -> Any:
        """Run function(*args) in a worker and give its result (or raise its exception).

        reserved: the job may use the reserved workers. alone: it must run exactly once (never queued
        behind another job, never withdrawn). progress: told when the job starts. Cancelled (the caller's
        deadline, or its client gone): withdrawn if not started, else its worker is killed and replaced.
        """
        job_id = next(self._ids)
        job = _Job(job_id, frame((job_id, function, args)), asyncio.get_running_loop().create_future(), reserved, alone,
                   progress or Progress())
        self._dispatch(job)
        try:
            return await job.future
        except asyncio.CancelledError:
            self._cancel(job)
            raise

    @property
    def load(self) -> tuple[int, int]:
        """Jobs running (first in a worker's line), and jobs sent or admitted that wait behind them."""
        lines = [len(w.jobs) for w in self._workers.values() if w.jobs]
        return len(lines), sum(lines) - len(lines) + len(self._waiting)

    def pids(self) -> list[int]:
        """The process ids of the workers (for the tests and the operator)."""
        return [w.process.pid for w in self._workers.values() if w.process.pid is not None]

    # Dispatching.

    def _takes(self, worker: _Worker, job: _Job, now: float) -> bool:
        if worker.gone or worker.transport is None:
            return False
        if not worker.jobs:
            return job.reserved or self._anonymous_lines() < self._size - self.reserved
        head = worker.head()
        return (
            not job.alone and len(worker.jobs) < self._depth and head is not None and not head.alone
            and now - worker.since < self._long_after
        )

    def _anonymous_lines(self) -> int:
        """Workers with an anonymous job in their line."""
        return sum(1 for w in self._workers.values() if any(not j.reserved for j in w.jobs.values()))

    def _dispatch(self, job: _Job) -> None:
        """Send the job to the least busy worker that may take it, or keep it waiting."""
        now = asyncio.get_running_loop().time()
        best = None
        for worker in self._workers.values():
            if not self._takes(worker, job, now):
                continue
            if not worker.jobs:
                best = worker
                break
            # Fewest jobs first; between equals, the one whose running job started last (the likeliest to be short).
            if best is None or (len(worker.jobs), -worker.since) < (len(best.jobs), -best.since):
                best = worker
        if best is None:
            # Token holders' jobs go before anonymous ones, each in order of arrival.
            if job.reserved:
                position = next((i for i, w in enumerate(self._waiting) if not w.reserved), len(self._waiting))
                self._waiting.insert(position, job)
            else:
                self._waiting.append(job)
            return
        if not best.jobs:
            best.since = job.progress.started = now
        best.jobs[job.id] = job
        job.worker = best
        # A job that starts at once is written at once: held to the end of the turn, it waited behind every other
        # callback of a busy loop while its worker sat idle (bench/LOAD.md). Jobs queued behind a running one are
        # read only when it ends, and go together.
        best.send(job.message, at_once=len(best.jobs) == 1)

    def _dispatch_waiting(self) -> None:
        for _ in range(len(self._waiting)):
            job = self._waiting.popleft()
            if not job.future.done():
                self._dispatch(job)

    def _answered(self, worker: _Worker, job_id: int, succeeded: bool, value: Any) -> None:
        worker.answered = True
        job = worker.jobs.pop(job_id, None)
        if job is None:
            return  # withdrawn, and run all the same: its answer came from elsewhere (or was not wanted)
        worker.since = asyncio.get_running_loop().time()
        following = worker.head()
        if following is not None:
            following.progress.started = worker.since
        job.worker = None
        if not job.future.done():
            if succeeded:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)
        if self._waiting:
            self._dispatch_waiting()

    def _take_back(self, worker: _Worker, job: _Job) -> None:
        """Take a job out of a worker's line; a worker still up is told to skip it if it has not started it."""
        del worker.jobs[job.id]
        job.worker = None
        if not worker.gone:
            worker.send(frame((job.id, None, None)))

    def _cancel(self, job: _Job) -> None:
        worker = job.worker
        if worker is None:
            if job in self._waiting:
                self._waiting.remove(job)
        elif worker.head() is job:
            # Maybe running: the worker is killed, the rest of its line goes elsewhere.
            self._replace(worker)
        else:
            self._take_back(worker, job)

    async def _watch(self) -> None:
        """Move the jobs queued behind a long one to other workers (only pools that pipeline run this)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._long_after / 2)
            now = loop.time()
            for worker in list(self._workers.values()):
                if len(worker.jobs) > 1 and now - worker.since >= self._long_after:
                    for job in worker.queued():
                        self._take_back(worker, job)
                        self._dispatch(job)

    # Workers' lives.

    async def _spawn(self, slot: int) -> None:
        ours, theirs = socket.socketpair()
        process = self._context.Process(
            target=worker_process.serve, daemon=True,
            args=(theirs, self._policy, self._initializer, self._initargs, self._demote_after),
        )
        # Start blocks while the interpreter is launched; the loop goes on meanwhile.
        await asyncio.to_thread(process.start)
        theirs.close()
        worker = _Worker(self, slot, process)
        await asyncio.get_running_loop().create_unix_connection(lambda: worker, sock=ours)
        if self._closed:
            worker.stop(kill=True)
            return
        self._workers[slot] = worker
        if self._waiting:
            self._dispatch_waiting()

    def _died(self, worker: _Worker) -> None:
        """The worker's socket closed under us: it died. Its first job fails, the others go elsewhere."""
        self._replace(worker, worker.head(), died=True)

    def _replace(self, worker: _Worker, failed: _Job | None = None, died: bool = False) -> None:
        """Kill a worker (unless it died) and start another in its slot, in the background; the jobs in its line go
        elsewhere, but for `failed` (its running job, if it died), which fails with the exit status."""
        if worker.gone:
            return
        # One that died is let be: its exit status is still being written (a kill now would replace it).
        worker.stop(kill=not died)
        if self._workers.get(worker.slot) is worker:
            del self._workers[worker.slot]
        head, queued = worker.head(), worker.queued()
        if head is not None:  # cancelled, or failed below
            self._take_back(worker, head)
        for job in queued:
            self._take_back(worker, job)
            self._dispatch(job)
        self._background(self._restart(worker, failed, died))

    async def _restart(self, worker: _Worker, failed: _Job | None, died: bool) -> None:
        # Reaped here, once, before anything else: a second waitpid would lose the exit status.
        await asyncio.to_thread(worker.process.join)
        if failed is not None and not failed.future.done():
            failed.future.set_exception(WorkerDiedError(worker.process.exitcode))
        # A worker that dies before answering anything may fail in its initialisation, and so would the next:
        # replacements then come ever more slowly (up to a minute apart), not in a loop that takes the machine.
        failures = self._failed_starts.get(worker.slot, 0) + 1 if died and not worker.answered else 0
        self._failed_starts[worker.slot] = failures
        if failures:
            pause = min(60.0, 0.25 * 2 ** failures)
            log.error("worker_start_failed", extra={"slot": worker.slot, "exit_code": worker.process.exitcode,
                                                    "retry_in": pause})
            await asyncio.sleep(pause)
        if not self._closed:
            await self._spawn(worker.slot)

    def _background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop every worker: idle ones finish (their socket closes), busy ones are killed."""
        self._closed = True
        if self._watcher is not None:
            self._watcher.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in list(self._workers.values()):
            worker.stop(kill=False)
        for worker in list(self._workers.values()):
            await asyncio.to_thread(worker.process.join, 5)
            if worker.process.is_alive():
                worker.process.kill()
                await asyncio.to_thread(worker.process.join)
        self._workers.clear()
