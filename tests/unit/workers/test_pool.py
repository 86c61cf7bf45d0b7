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
    # Written aside and renamed: the test sees the file only once it holds the whole process id.
    Path(started + ".part").write_text(str(os.getpid()))
    os.replace(started + ".part", started)
    wait_for(release)
    return os.getpid()


def note_pid(path: str) -> int:
    """Record that the job ran (one line per run), and where."""
    with open(path, "a") as runs:
        runs.write(f"{os.getpid()}\n")
    return os.getpid()


def fail_to_start() -> None:
    raise RuntimeError("this worker cannot start")


def _run(scenario, **options):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        pool = WorkerPool(options.pop("size", 2), **options)
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


# Pipelining: several jobs in a worker's line at once.


def test_many_jobs_at_once_each_get_their_own_answer() -> None:
    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        answers = await asyncio.gather(*(pool.run(echo, n) for n in range(200)), pool.run(fail, "one of them"),
                                       return_exceptions=True)
        assert answers[:200] == list(range(200))
        assert isinstance(answers[200], ValueError) and str(answers[200]) == "one of them"

    _run(scenario, depth=8)


def test_a_job_queued_behind_a_long_one_is_moved_to_a_free_worker_and_runs_once(tmp_path: Path) -> None:
    started = [tmp_path / "started-0", tmp_path / "started-1"]
    release = [tmp_path / "release-0", tmp_path / "release-1"]
    runs = tmp_path / "runs"

    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        # Both workers get a long job; the third joins the line of the one that started last (the likeliest to be
        # short), behind the second.
        first = asyncio.ensure_future(pool.run(announce_and_wait, str(started[0]), str(release[0])))
        second = asyncio.ensure_future(pool.run(announce_and_wait, str(started[1]), str(release[1])))
        third = asyncio.ensure_future(pool.run(note_pid, str(runs)))
        await _until(started[0])
        await _until(started[1])
        release[0].write_text("")
        first_worker = await first
        # The second job runs on: the third is taken from its line and run by the worker now free.
        assert await third == first_worker
        assert not second.done()
        release[1].write_text("")
        second_worker = await second
        assert second_worker != first_worker
        # Two jobs at once go to both workers: the second worker has passed the place where the third was.
        assert set(await asyncio.gather(pool.run(pid), pool.run(pid))) == {first_worker, second_worker}
        assert runs.read_text().split() == [str(first_worker)]

    _run(scenario, depth=4, long_after=0.2)


def test_cancelling_a_job_that_has_not_started_withdraws_it_and_keeps_the_worker(tmp_path: Path) -> None:
    started, release, runs = tmp_path / "started", tmp_path / "release", tmp_path / "runs"

    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        before = pool.pids()
        running = asyncio.ensure_future(pool.run(announce_and_wait, str(started), str(release)))
        queued = asyncio.ensure_future(pool.run(note_pid, str(runs)))
        await _until(started)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        release.write_text("")
        assert await running == before[0]
        # The worker runs its line in order: a job sent now runs after where the withdrawn one was.
        assert await pool.run(pid) == before[0]
        assert pool.pids() == before and not runs.exists()

    _run(scenario, size=1, depth=4, long_after=60)


def test_when_the_running_job_is_cancelled_the_jobs_behind_it_run_on_its_replacement(tmp_path: Path) -> None:
    started = tmp_path / "started"

    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        running = asyncio.ensure_future(pool.run(announce_and_wait, str(started), str(tmp_path / "never")))
        queued = [asyncio.ensure_future(pool.run(echo, n)) for n in range(3)]
        await _until(started)
        killed = int(started.read_text())
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert await asyncio.gather(*queued) == [0, 1, 2]
        assert killed not in pool.pids() and not _alive(killed)

    _run(scenario, size=1, depth=4, long_after=60)


def test_a_worker_that_dies_fails_its_running_job_only() -> None:
    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        dying = asyncio.ensure_future(pool.run(die, 3))
        queued = [asyncio.ensure_future(pool.run(echo, n)) for n in range(3)]
        with pytest.raises(WorkerDiedError) as died:
            await dying
        assert died.value.exitcode == 3
        assert await asyncio.gather(*queued) == [0, 1, 2]

    _run(scenario, size=1, depth=4, long_after=60)


def test_a_worker_that_cannot_start_fails_its_job_and_is_replaced_ever_more_slowly(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        with pytest.raises(WorkerDiedError) as died:
            await pool.run(echo, 1)
        assert died.value.exitcode == 1
        while len(caplog.records) < 3:  # the event: the third replacement in a row has failed too
            await asyncio.sleep(0.01)

    with caplog.at_level("ERROR", logger="ilokg.workers"):
        _run(scenario, size=1, initializer=fail_to_start)
    records = caplog.records[:3]
    assert [r.getMessage() for r in records] == ["worker_start_failed"] * 3
    # Each replacement waits twice as long as the one before (up to a minute), not a loop that takes the machine.
    assert [r.retry_in for r in records] == [0.5, 1.0, 2.0]  # type: ignore[attr-defined]
    assert {r.exit_code for r in records} == {1}  # type: ignore[attr-defined]


def test_anonymous_jobs_never_take_the_reserved_worker(tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"

    async def scenario(pool: WorkerPool):  # type: ignore[no-untyped-def]
        anonymous = set(await asyncio.gather(*(pool.run(pid) for _ in range(20))))
        assert len(anonymous) == 1
        # With the other worker held by an anonymous job, a token holder's job still starts at once.
        held = asyncio.ensure_future(pool.run(announce_and_wait, str(started), str(release)))
        await _until(started)
        reserved_worker = await pool.run(pid, reserved=True)
        assert reserved_worker not in anonymous and not held.done()
        release.write_text("")
        assert await held in anonymous

    _run(scenario, depth=1, reserved=1)
