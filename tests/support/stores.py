"""Driving an EmbeddedStore directly, as the app does: its workers live in the event loop that uses them."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from server.store.embedded import EmbeddedStore

T = TypeVar("T")


def run_with_store(store: EmbeddedStore, scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Start the store's workers, run the scenario, stop them: all in one event loop."""

    async def main() -> T:
        await store.start()
        try:
            return await scenario()
        finally:
            await store.close()

    return asyncio.run(main())
