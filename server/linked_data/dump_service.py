"""The dumps the server offers, written once per version of the store's data, on first request.

Each version gets its own folder beside the store (<store>-dumps/<version>); folders of
older versions are removed once the new one is complete, so a download in progress keeps
reading files that still exist on most systems (open files survive removal on POSIX).
"""

import asyncio
import shutil
from pathlib import Path

from server.problems import ProblemError
from server.settings import Settings
from server.store.dumps import DumpFile, dump_files
from server.store.embedded import DataChangedError, DeadlineExceededError, GraphStore, StoreInfo
from server.store.query_worker import DumpJob
from server.workers.fair_share import ShareExceededError
from server.workers.pool import WorkerDiedError

# Dumps asked for again when the data changes under them, before giving up (a busy writer).
_ATTEMPTS = 3


class DumpUnavailableError(ProblemError):
    """The dump could not be written in time: 503, try again in a minute."""

    def __init__(self, detail: str):
        super().__init__(503, detail, {"Retry-After": "60"})


class DumpService:
    """Writes and finds the dump files of the current data."""

    def __init__(self, settings: Settings, store: GraphStore):
        self._settings = settings
        self._store = store
        self._root = settings.store_dir.with_name(settings.store_dir.name + "-dumps")
        self._lock = asyncio.Lock()

    def files(self) -> list[DumpFile]:
        """The files of the dump of the current data (written or not yet)."""
        return dump_files([g.iri for g in self._store.info.graphs])

    async def path(self, name: str) -> Path | None:
        """The file of the current dump with this name (written now if need be), or None if there is none."""
        if name not in {f.name for f in self.files()}:
            return None
        return await self._folder() / name

    async def _folder(self) -> Path:
        # A submission landing between reading the version and the worker's start would put the
        # newer data in the older version's folder: the store refuses the job then, and the dump
        # is asked for again, of the version current by then.
        for _ in range(_ATTEMPTS):
            info = self._store.info
            folder = self._root / info.version
            if folder.is_dir():
                return folder
            async with self._lock:
                if folder.is_dir():
                    return folder
                try:
                    await self._write(folder, info)
                except DataChangedError:
                    continue
                return folder
        raise DumpUnavailableError("The data changed while its dump was being written; try again.")

    async def _write(self, folder: Path, info: StoreInfo) -> None:
        job = DumpJob(str(folder), tuple(g.iri for g in info.graphs), info.version)
        try:
            await self._store.dump(job, self._settings.dump_timeout_seconds)
        except DeadlineExceededError:
            raise DumpUnavailableError(
                f"Writing the dump took longer than {self._settings.dump_timeout_seconds:g} s; try again later."
            ) from None
        except (WorkerDiedError, MemoryError):
            raise DumpUnavailableError("Writing the dump needed more memory than a worker may use; try again later.") from None
        except ShareExceededError as error:
            raise DumpUnavailableError(error.message) from None
        for old in self._root.iterdir():
            if old.is_dir() and old.name != info.version and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
