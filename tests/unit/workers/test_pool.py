"""The worker pool: jobs in persistent processes over a socketpair, killed at the deadline or on cancel, replaced."""

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from server.workers.pool import WorkerDiedError, WorkerPool


def pid() -> int:
    return os.getpid()


def echo(value: object) -> object:
    return value


def fail(message: str) -> None:
    raise ValueError(message)


def die(code: int) -> None:
    os._exit(code)


def kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def wait_for(path: str) -> str:
    """Run until a file appears (or for ever): a job that only a kill stops."""
    while not Path(path).exists():
        time.sleep(0.01)
    return "released"


def announce_and_wait(started: str, release: str) -> int:
    Path(started).write_text(str(os.getpid()))
    wait_for(release)
    return os.getpid()


def _run(scenario):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        pool = WorkerPool(2)
        await pool.start()
        try:
            return await scenario(pool)
        finally:
            await pool.close()

    return asyncio.run(main())


async def _until(path: Path) -> None:
    while not path.exists():  # the event: the worker has written it
        await asyncio.sleep(0.01)


def _alive(process_id: int) -> bool:
    try:
        with open(f"/proc/{process_id}/stat") as stat:
            # A killed child not yet reaped is a zombie: dead for our purpose.
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_job_runs_in_a_worker_and_its_answer_and_errors_come_back() -> None:
    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        worker_pid = await pool.run(pid)
        assert worker_pid != os.getpid() and worker_pid in pool.pids()
        assert await pool.run(echo, {"big": b"x" * 3_000_000}) == {"big": b"x" * 3_000_000}
        with pytest.raises(ValueError, match="^the job's own$"):
            await pool.run(fail, "the job's own")
        # The worker that raised is still the pool's: an exception is an answer, not a death.
        assert sorted(pool.pids()) == sorted(set(pool.pids())) and len(pool.pids()) == 2

    _run(scenario)


def test_a_cancelled_job_kills_its_worker_and_the_pool_goes_on(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"

    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        job = asyncio.ensure_future(pool.run(announce_and_wait, str(started), str(release)))
        await _until(started)
        busy = int(started.read_text())
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        while len(pool.pids()) < 2:  # the event: its replacement has been started (after it was reaped)
            await asyncio.sleep(0.01)
        assert busy not in pool.pids() and not _alive(busy)
        assert {await pool.run(pid), await pool.run(pid)} <= set(pool.pids())

    _run(scenario)
    assert not release.exists()


def test_a_deadline_stops_the_job_however_long_it_would_run(tmp_path: Path) -> None:
    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        before = set(pool.pids())
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await pool.run(wait_for, str(tmp_path / "never"))
        while len(pool.pids()) < 2:
            await asyncio.sleep(0.01)
        assert len(before - set(pool.pids())) == 1  # exactly the busy worker was replaced
        assert await pool.run(echo, 7) == 7

    _run(scenario)


@pytest.mark.parametrize("code", [3, -signal.SIGKILL])
def test_a_worker_that_dies_is_reported_with_its_exit_status_and_replaced(code: int) -> None:
    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        with pytest.raises(WorkerDiedError) as died:
            await (pool.run(die, code) if code > 0 else pool.run(kill_self))
        while len(pool.pids()) < 2:  # the event: its replacement has been started
            await asyncio.sleep(0.01)
        assert await pool.run(echo, "after") == "after"
        return died.value.exitcode

    assert _run(scenario) == code
