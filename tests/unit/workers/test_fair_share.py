"""Admission to the workers: per-requester limits, a share reserved for token holders, the order of waiting."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from server.workers.fair_share import FairShare, Requester, ShareExceededError

ANNE, BOB, CARL = Requester("address:10.0.0.1"), Requester("address:10.0.0.2"), Requester("address:10.0.0.3")
TINA, TOM = Requester("token:tina", token_holder=True), Requester("token:tom", token_holder=True)


class Holders:
    """Jobs that take a slot and hold it until released, recording when each started."""

    def __init__(self, share: FairShare):
        self.share = share
        self.started: list[str] = []
        self._release: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def hold(self, name: str, requester: Requester) -> asyncio.Task[None]:
        self._release[name] = asyncio.Event()

        async def job() -> None:
            async with self.share.slot(requester):
                self.started.append(name)
                await self._release[name].wait()

        self.tasks[name] = asyncio.ensure_future(job())
        return self.tasks[name]

    def release(self, name: str) -> None:
        self._release[name].set()


def _run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_requester_over_its_limit_is_refused_at_once_and_others_are_not() -> None:
    async def test() -> None:
        jobs = Holders(FairShare(slots=8, reserved=0, per_client=2, per_token=3))
        jobs.hold("a1", ANNE), jobs.hold("a2", ANNE), jobs.hold("t1", TINA), jobs.hold("t2", TINA), jobs.hold("t3", TINA)
        await _settle()
        with pytest.raises(ShareExceededError) as anne:
            async with jobs.share.slot(ANNE):
                pass
        with pytest.raises(ShareExceededError) as tina:
            async with jobs.share.slot(TINA):
                pass
        assert (anne.value.limit, tina.value.limit) == (2, 3)
        assert "One client address may have at most 2" in anne.value.message
        jobs.hold("b1", BOB)
        await _settle()
        assert jobs.started == ["a1", "a2", "t1", "t2", "t3", "b1"]
        jobs.release("a1")
        await _settle()
        jobs.hold("a3", ANNE)  # a slot of hers has ended: she may ask again
        await _settle()
        assert jobs.started[-1] == "a3"
    _run(test)


def test_anonymous_clients_never_take_the_reserved_workers() -> None:
    async def test() -> None:
        jobs = Holders(FairShare(slots=3, reserved=1, per_client=4, per_token=4))
        for name, who in (("a1", ANNE), ("b1", BOB), ("c1", CARL)):
            jobs.hold(name, who)
        await _settle()
        assert jobs.started == ["a1", "b1"]  # CARL waits: the third worker is the token holders'
        jobs.hold("t1", TINA)
        await _settle()
        assert jobs.started == ["a1", "b1", "t1"]
        jobs.release("t1")
        await _settle()
        assert jobs.started == ["a1", "b1", "t1"]  # still reserved: CARL waits for an anonymous worker
        jobs.release("a1")
        await _settle()
        assert jobs.started == ["a1", "b1", "t1", "c1"]
    _run(test)


def test_waiting_token_holders_start_before_waiting_anonymous_clients_each_in_order_of_arrival() -> None:
    async def test() -> None:
        jobs = Holders(FairShare(slots=1, reserved=0, per_client=4, per_token=4))
        jobs.hold("a1", ANNE)
        await _settle()
        for name, who in (("b1", BOB), ("t1", TINA), ("c1", CARL), ("t2", TOM)):
            jobs.hold(name, who)
            await _settle()
        for name in ("a1", "t1", "t2", "b1"):
            jobs.release(name)
            await _settle()
        assert jobs.started == ["a1", "t1", "t2", "b1", "c1"]
    _run(test)


def test_a_job_that_gives_up_waiting_leaves_the_queue_and_leaks_no_worker() -> None:
    async def test() -> None:
        share = FairShare(slots=1, reserved=0, per_client=4, per_token=4)
        jobs = Holders(share)
        jobs.hold("a1", ANNE)
        waiting = jobs.hold("b1", BOB)
        await _settle()
        assert share.waiting == 1
        waiting.cancel()
        await _settle()
        assert share.waiting == 0
        jobs.release("a1")
        jobs.hold("c1", CARL)
        await _settle()
        assert jobs.started == ["a1", "c1"]
        # BOB's cancelled job no longer counts against him.
        jobs.release("c1")
        jobs.hold("b2", BOB)
        await _settle()
        assert jobs.started == ["a1", "c1", "b2"]
    _run(test)


def test_a_job_cancelled_just_as_it_was_started_hands_its_worker_on() -> None:
    async def test() -> None:
        share = FairShare(slots=1, reserved=0, per_client=4, per_token=4)
        jobs = Holders(share)
        jobs.hold("a1", ANNE)
        late = jobs.hold("b1", BOB)
        jobs.hold("c1", CARL)
        await _settle()
        jobs.release("a1")  # b1 is started (its future resolved) ...
        late.cancel()  # ... and cancelled before it could run
        for _ in range(10):
            await asyncio.sleep(0)
        assert jobs.started == ["a1", "c1"]
    _run(test)
