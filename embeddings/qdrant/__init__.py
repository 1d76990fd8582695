"""Qdrant as the search backend: a built generation published as a collection version behind an alias."""

from embeddings.qdrant.connect import connect
from embeddings.qdrant.publish import Published, current_version, lease, publish
from embeddings.qdrant.reader import QdrantIndex, differs, published_info, seeds_changed

__all__ = ["Published", "QdrantIndex", "connect", "current_version", "differs", "lease", "publish", "published_info",
           "seeds_changed"]
