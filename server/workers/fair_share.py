"""Fair shares of a worker pool: who may run a job now, who waits, who is refused.

A public endpoint is used by many anonymous clients and a few token holders (partners who
submit data). Without admission, a handful of clients each sending a few heavy queries would
hold every worker until their deadlines, and everyone else would wait. So every job enters
through a `FairShare`:

- each requester (a client address, or a token holder by name) may have at most a few jobs
  running or waiting; one more is refused at once (429), it does not join the queue;
- anonymous requesters together never hold the last `reserved` workers, so a token holder's
  job starts at once even when anonymous clients saturate the rest;
- waiting jobs start in order of arrival, token holders' before anonymous ones;
- a job that gives up waiting (its deadline, or its client hung up) leaves the queue.

The requester of the job being handled is in the context variable `current` (set for each
request by the HTTP layer), so the services between the route and the store need not carry it.
"""

import asyncio
import contextvars
import heapq
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Requester:
    """Who asks: a client address, or the name of a token holder (who gets the reserved share)."""

    key: str
    token_holder: bool = False


# Jobs started outside a request (start-up, the command line) belong to the server itself.
SERVER = Requester("server", token_holder=True)
current: contextvars.ContextVar[Requester] = contextvars.ContextVar("requester", default=SERVER)


class ShareExceededError(Exception):
    """The requester already has as many jobs running or waiting as it may."""

    def __init__(self, limit: int, token_holder: bool):
        super().__init__(limit)
        self.limit, self.token_holder = limit, token_holder

    @property
    def message(self) -> str:
        """What to tell the client."""
        who = "a token holder" if self.token_holder else "one client address"
        return (
            f"{who.capitalize()} may have at most {self.limit} of these requests running or waiting at once; "
            "wait for an answer before sending more."
        )


class FairShare:
    """Admission to a pool of `slots` workers (see the module's docstring)."""

    def __init__(self, slots: int, reserved: int, per_client: int, per_token: int):
        self._slots = slots
        self._anonymous_slots = max(1, slots - reserved)
        self._limits = {False: per_client, True: per_token}
        self._running = 0
        self._running_anonymous = 0
        self._in_flight: Counter[str] = Counter()
        # Waiting jobs: (token holders first, arrival, requester, the future that starts them).
        self._waiting: list[tuple[int, int, Requester, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @property
    def running(self) -> int:
        """Jobs holding a worker."""
        return self._running

    @property
    def waiting(self) -> int:
        """Jobs waiting for a worker."""
        return sum(1 for *_, started in self._waiting if not started.done())

    @asynccontextmanager
    async def slot(self, requester: Requester) -> AsyncIterator[None]:
        """Hold a worker for the requester's job: at once, or after waiting; ShareExceededError if it has too many."""
        limit = self._limits[requester.token_holder]
        if self._in_flight[requester.key] >= limit:
            raise ShareExceededError(limit, requester.token_holder)
        self._in_flight[requester.key] += 1
        try:
            await self._admit(requester)
            try:
                yield
            finally:
                self._release(requester)
        finally:
            self._in_flight[requester.key] -= 1
            if not self._in_flight[requester.key]:
                del self._in_flight[requester.key]

    def _may_start(self, requester: Requester) -> bool:
        return self._running < self._slots and (requester.token_holder or self._running_anonymous < self._anonymous_slots)

    def _start(self, requester: Requester) -> None:
        self._running += 1
        self._running_anonymous += not requester.token_holder

    async def _admit(self, requester: Requester) -> None:
        # Every job joins the queue and the queue starts what it can, in order: a token holder is
        # started at once past anonymous jobs that wait for their share.
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (0 if requester.token_holder else 1, next(self._arrivals), requester, started))
        self._wake()
        if started.done():
            return
        try:
            await started
        except asyncio.CancelledError:
            if started.done() and not started.cancelled():
                self._release(requester)  # started just as it gave up: hand the worker on
            else:
                started.cancel()
            raise

    def _release(self, requester: Requester) -> None:
        self._running -= 1
        self._running_anonymous -= not requester.token_holder
        self._wake()

    def _wake(self) -> None:
        """Start waiting jobs in order while workers are free (an anonymous job over its share waits on)."""
        held = []
        while self._waiting and self._running < self._slots:
            entry = heapq.heappop(self._waiting)
            _, _, requester, started = entry
            if started.done():
                continue  # gave up waiting
            if not self._may_start(requester):
                held.append(entry)
                continue
            self._start(requester)
            started.set_result(None)
        for entry in held:
            heapq.heappush(self._waiting, entry)
