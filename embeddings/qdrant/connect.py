"""Opening a Qdrant client: a server by URL, or qdrant-client's local mode in a folder (one process only)."""

from __future__ import annotations

import atexit
from pathlib import Path

from embeddings.index.errors import IndexFailure


class QdrantUnavailable(IndexFailure):
    """The client could not be opened or the server not reached; the message says where and why."""


def connect(url: str | None = None, path: Path | None = None, api_key: str | None = None, timeout: float = 30.0):
    try:
        from qdrant_client import QdrantClient
    except ImportError as exc:
        raise QdrantUnavailable(f"the qdrant backend needs qdrant-client: {exc}") from None
    try:
        if url:
            client = QdrantClient(url=url, api_key=api_key, timeout=int(timeout))
            client.get_collections()  # fail here, in one line, rather than on the first question
            return client
        if path is None:
            raise QdrantUnavailable("the qdrant backend needs --qdrant-url URL (a server) or QUOTEBOT_QDRANT_PATH "
                                    "(qdrant-client's local mode)")
        Path(path).mkdir(parents=True, exist_ok=True)
        client = QdrantClient(path=str(path))
        # Local mode writes and unlocks its folder on close; left to interpreter shutdown, that fails noisily.
        atexit.register(client.close)
        return client
    except QdrantUnavailable:
        raise
    except Exception as exc:  # httpx, grpc and the local mode's lock each raise their own kinds
        where = url or path
        raise QdrantUnavailable(f"cannot open Qdrant at {where}: {' '.join(str(exc).split())[:200]}") from None
