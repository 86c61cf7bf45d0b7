"""Which store the server opens: the embedded one, or an external SPARQL 1.1 store when its URL is set."""

import asyncio

from server.settings import Settings
from server.store.embedded import EmbeddedStore, GraphStore
from server.store.remote import RemoteStore


async def open_store(settings: Settings) -> GraphStore:
    """The store for these settings, its files synced and its workers (or connections) started."""
    if settings.store_url is not None:
        remote = RemoteStore(settings)
        try:
            await remote.start()
        except BaseException:
            await remote.close()
            raise
        return remote
    # Syncing the files and spawning the workers block; they run before serving starts.
    store = await asyncio.to_thread(EmbeddedStore.open, settings)
    await store.start()
    return store
