"""What /proc says of the server's processes, for tests whose point is process behaviour."""
import subprocess
from pathlib import Path

# Any process or thread may end while /proc is read: its files then vanish (FileNotFoundError) or
# refuse to be read (ProcessLookupError). Every reader below treats that as "gone", never as a failure.
_GONE = (FileNotFoundError, ProcessLookupError)


def _tasks(pid: int) -> list[Path]:
    """The /proc folders of a process's threads; none once it is gone."""
    try:
        return list(Path(f"/proc/{pid}/task").iterdir())
    except _GONE:
        return []


def children(pid: int) -> set[int]:
    """The child processes of a process (the server's workers); empty once it is gone."""
    found: set[int] = set()
    for task in _tasks(pid):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except _GONE:
            continue
    return found


def nice_by_thread(pid: int) -> dict[int, int]:
    """The nice value of each live thread of a process (from /proc/<pid>/task/<tid>/stat); empty once it is gone."""
    values: dict[int, int] = {}
    for task in _tasks(pid):
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except _GONE:
            continue
        values[int(task.name)] = int(fields[16])
    return values


def cpu_ticks(pid: int) -> int:
    """The CPU time a process has used, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except _GONE:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except _GONE:
        return False


def stop(process: subprocess.Popen[bytes] | None, seconds: float = 20) -> None:
    """Stop a process as an operator would: SIGTERM, then SIGKILL if it has not exited within `seconds`."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
