"""The answer of a canned query as sent: the worker's bytes, and the envelope of the `rows` form.

Every machine format of a page (the registry's CANNED_PAGE offer) is written by the query worker
(see store.query_worker: SPARQL JSON, XML, CSV and TSV by pyoxigraph, `rows` by formats.rows);
only `rows` gets more here, the query's name, parameters and paging, spliced in before its
columns so the worker's bytes are sent as they are.
"""

import json

from server.formats.registry import ROWS, Format


def document(body: bytes, page_format: Format, envelope: dict[str, object]) -> bytes:
    """The page to send: the worker's bytes, with the envelope's members first for `rows`."""
    if page_format is not ROWS:
        return body
    # The worker's rows document is a JSON object ({"columns": …, "rows": …}): the envelope's members go before.
    head = json.dumps(envelope, ensure_ascii=False).encode()
    return head[:-1] + b", " + body[1:]
