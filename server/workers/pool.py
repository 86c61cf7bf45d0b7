"""The pool of worker processes every job runs in: queries, context walks, dumps and validations.

Persistent processes, started with `spawn` (the server runs threads, which fork does not copy
safely), each connected to the server by a socketpair carrying length-prefixed pickles: one job
at a time per worker, no manager thread, no acknowledgements. The server side is asyncio all the
way: a job waits for an idle worker, is written to its socket, and its answer read back.

The deadline is the caller's (an `asyncio.timeout` opened when the request arrived): when it
passes, or when the client goes away, the job's task is cancelled, and the pool kills the
worker running it (pyoxigraph cannot interrupt a query) and starts another in its place. A
worker that dies on its own (the kernel's memory cap, a crash in native code) is reported as
WorkerDiedError with its exit status, and replaced too.
"""

import asyncio
import multiprocessing
import pickle
import socket
import struct
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

# multiprocessing.connection's framing: a signed 32-bit length, or -1 then an unsigned 64-bit one.
_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")


class WorkerDiedError(Exception):
    """The worker process ended while it ran the job (killed by the kernel, or crashed)."""

    def __init__(self, exitcode: int | None):
        super().__init__(f"the worker process ended (exit code {exitcode})")
        self.exitcode = exitcode


def _serve(sock: socket.socket, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """The worker process: initialise once, then run jobs as they arrive until the server closes the socket."""
    connection = Connection(sock.detach())
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            function, args = pickle.loads(connection.recv_bytes())
        except EOFError:
            return
        try:
            outcome: tuple[bool, Any] = (True, function(*args))
        except BaseException as error:  # noqa: BLE001 (the job's own failure, returned to the server)
            outcome = (False, error)
        try:
            payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 (an answer that cannot be pickled is the job's failure)
            payload = pickle.dumps((False, RuntimeError(f"the job's answer could not be sent: {error!r}")))
        connection.send_bytes(payload)


class _Worker:
    """One worker process and the server's end of its socket."""

    def __init__(self, process: BaseProcess, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.process = process
        self.reader = reader
        self.writer = writer

    async def call(self, function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        payload = pickle.dumps((function, args), protocol=pickle.HIGHEST_PROTOCOL)
        header = _SHORT.pack(len(payload)) if len(payload) <= 0x7FFFFFFF else _SHORT.pack(-1) + _LONG.pack(len(payload))
        self.writer.write(header + payload)
        (size,) = _SHORT.unpack(await self.reader.readexactly(_SHORT.size))
        if size == -1:
            (size,) = _LONG.unpack(await self.reader.readexactly(_LONG.size))
        succeeded, value = pickle.loads(await self.reader.readexactly(size))
        if succeeded:
            return value
        raise value

    def kill(self) -> None:
        self.writer.close()
        if self.process.is_alive():
            self.process.kill()


class WorkerPool:
    """A fixed number of worker processes, each running one job at a time."""

    def __init__(self, size: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()):
        self._size = size
        self._initializer = initializer
        self._initargs = initargs
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._restarting: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        """Start the workers (each initialises in its own process, meanwhile jobs may already be sent)."""
        for _ in range(self._size):
            self._idle.put_nowait(await self._spawn())

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run function(*args) in a worker and give its result (or raise its exception).

        Cancelled (the caller's deadline, or its client gone): the worker is killed and replaced.
        """
        worker = await self._idle.get()
        try:
            result = await worker.call(function, args)
        except (asyncio.IncompleteReadError, ConnectionError):
            # Reaped here, before its replacement is started: one join, so the exit status is never lost.
            await asyncio.to_thread(worker.process.join, 5)
            self._replace(worker)
            raise WorkerDiedError(worker.process.exitcode) from None
        except asyncio.CancelledError:
            # Killed now; the new worker starts in the background, so the caller's share of the pool is
            # free at once (a job admitted meanwhile waits for it, within its own deadline).
            self._replace(worker)
            raise
        except BaseException:
            self._idle.put_nowait(worker)
            raise
        self._idle.put_nowait(worker)
        return result

    def pids(self) -> list[int]:
        """The process ids of the workers (for the tests and the operator)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    async def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        process = self._context.Process(target=_serve, args=(theirs, self._initializer, self._initargs), daemon=True)
        # Start blocks while the interpreter is launched; the loop goes on meanwhile.
        await asyncio.to_thread(process.start)
        theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours, limit=2**16)
        worker = _Worker(process, reader, writer)
        self._workers.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and start another in its place (in a task of its own, kept until it is done)."""
        worker.kill()
        self._workers.discard(worker)
        task = asyncio.get_running_loop().create_task(self._restart(worker))
        self._restarting.add(task)
        task.add_done_callback(self._restarting.discard)

    async def _restart(self, worker: _Worker) -> None:
        await asyncio.to_thread(worker.process.join)
        if not self._closed:
            self._idle.put_nowait(await self._spawn())

    async def close(self) -> None:
        """Stop every worker: idle ones finish (their socket closes), busy ones are killed."""
        self._closed = True
        await asyncio.gather(*self._restarting, return_exceptions=True)
        for worker in list(self._workers):
            worker.writer.close()
        for worker in list(self._workers):
            await asyncio.to_thread(worker.process.join, 5)
            if worker.process.is_alive():
                worker.process.kill()
                await asyncio.to_thread(worker.process.join)
        self._workers.clear()
