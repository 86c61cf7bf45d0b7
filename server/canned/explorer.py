"""The explorer's questions, and their unfiltered answers computed in the background once per data version.

At a few thousand projects the explorer's questions take seconds each (bench/RESULTS.md, pictures); computed when the
data changes, through the same path as a visitor's request (the worker pool, the deadline, the answer cache), the
first visitor after a change finds them ready. Only the unfiltered answers: filters narrow the answers, and so their
cost, and there are too many combinations to foresee.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from server.canned.service import CannedQueryService
from server.formats.registry import SPARQL_JSON
from server.store.embedded import GraphStore

log = logging.getLogger("ilokg.explorer")

SUMMARY = "explore-summary"
# The pictures and the questions that draw them.
VIEWS = (("map", "explore-countries"), ("timeline", "explore-timeline"), ("network", "explore-network"))
# How often the data version is looked at (an attribute read: nothing is queried unless it changed).
_POLL_SECONDS = 1.0


class ExplorerWarmup:
    """Keeps the explorer's unfiltered answers computed for the store's current data version."""

    def __init__(self, canned: CannedQueryService, store: GraphStore):
        self._canned = canned
        self._store = store
        self.version: str | None = None  # the data version whose answers are ready (shown by /health)

    async def warm(self) -> None:
        """Compute every page of each explorer question, unfiltered, as the explorer asks for them."""
        # The pages as the explorer reads them: as large as this store allows.
        version, page_size = self._store.info.version, self._canned.max_page_size
        for name in (SUMMARY, *(query for _, query in VIEWS)):
            query, offset = self._canned.get(name), 0
            while True:
                try:
                    output = await self._canned.answer(query, {}, page_size, offset, SPARQL_JSON)
                except Exception as error:  # noqa: BLE001 - a background task that died would never warm again
                    # A deadline at this size stops a visitor's request too (and a store away is reported by its own
                    # requests): nothing to prepare for this version; said once.
                    log.warning("explorer answers not prepared", extra={"query": name, "reason": str(error)[:500]})
                    break
                output.discard()
                if not output.more:
                    break
                offset += page_size
        self.version = version
        log.info("explorer answers ready", extra={"dataVersion": version})

    async def run(self) -> None:
        """Warm whenever the data version changes, until cancelled."""
        while True:
            if self._store.info.version != self.version:
                await self.warm()
            await asyncio.sleep(_POLL_SECONDS)


@contextlib.asynccontextmanager
async def kept_warm(warmup: ExplorerWarmup | None) -> AsyncIterator[None]:
    """Run the warm-up beside the app (if there is one), and stop it with the app."""
    if warmup is None:
        yield
        return
    task = asyncio.create_task(warmup.run(), name="explorer-warmup")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
