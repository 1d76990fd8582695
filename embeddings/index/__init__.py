"""The on-disk index: immutable segments of passages + postings + FAISS, listed by atomically published generations.

A generation is a manifest naming its segments and which files (rows) of each are live, plus the
vocabulary. A reindex writes segments only for new or changed files and a new manifest; everything
else is reused as it is on disk, so its cost follows the change, not the corpus.
"""

from embeddings.index.build import BuildReport, build_index, repeated_rows
from embeddings.index.new_segment import passage_tokens
from embeddings.index.dense import REFINE, build_faiss, choose_index_type, nprobe, refine, refine_scored
from embeddings.index.errors import IndexBusy, IndexCorrupt, IndexFailure, IndexMismatch, IndexMissing, IndexWriteFailed
from embeddings.index.plan import seeds_changed
from embeddings.index.reader import Index
from embeddings.index.segment import Segment
from embeddings.index.views import Documents, Passages
from embeddings.index.storage import FORMAT_VERSION, SEGMENTS, current_generation

__all__ = ["FORMAT_VERSION", "REFINE", "SEGMENTS", "BuildReport", "Documents", "Index", "IndexBusy", "IndexCorrupt",
           "IndexFailure", "IndexMismatch", "IndexMissing", "IndexWriteFailed", "Passages", "Segment", "build_faiss",
           "build_index", "choose_index_type", "current_generation", "nprobe", "passage_tokens", "refine",
           "refine_scored", "repeated_rows", "seeds_changed"]
