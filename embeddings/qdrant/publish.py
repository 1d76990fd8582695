"""Writing a built generation into a new Qdrant collection and switching the alias to it atomically."""

from __future__ import annotations

import contextlib
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from embeddings import bm25
from embeddings.index import Index, IndexBusy, IndexWriteFailed
from embeddings.qdrant.layout import (DENSE, SENTENCES, SPARSE, VOCAB_CHUNK, Description, Version, day_number,
                                      doc_point, lease_collection, meta_point)
from embeddings.store import doc_to_json

BATCH = 128  # points per upsert request
LEASE_SECONDS = 3_600.0  # a builder that died holding the lease gives it up after this long


@dataclass(frozen=True)
class Published:
    collection: str
    previous: str | None
    passages: int
    documents: int
    seconds: float


def current_version(client, alias: str) -> str | None:
    """The collection the alias points at, or None."""
    for a in client.get_aliases().aliases:
        if a.alias_name == alias:
            return a.collection_name
    return None


def ranges(mask: np.ndarray) -> list[list[int]]:
    """[start, stop) runs of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return edges.reshape(-1, 2).tolist()


def publish(index: Index, client, alias: str, *, step: Callable[[str], None] = lambda name: None,
            batch: int = BATCH, shards: int | None = None, replicas: int | None = None) -> Published:
    """Write `index` (a loaded local generation) into a new collection version, then point `alias` at it.

    Point ids are the generation's row numbers (documents and the description above them), so writing
    a batch twice writes the same points. Until the alias switches, readers keep the previous version;
    the version before that is then dropped, and so is any half-written one a crash left behind.
    """
    from qdrant_client import models

    t0 = time.perf_counter()
    version = Version(alias, index.generation, uuid.uuid4().hex[:8])
    dim = index.manifest.encoder.dim
    try:
        client.create_collection(
            version.name,
            vectors_config={
                DENSE: models.VectorParams(size=dim, distance=models.Distance.DOT),
                SENTENCES: models.VectorParams(size=dim, distance=models.Distance.DOT,
                                               multivector_config=models.MultiVectorConfig(
                                                   comparator=models.MultiVectorComparator.MAX_SIM),
                                               hnsw_config=models.HnswConfigDiff(m=0)),  # read, never searched
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            shard_number=shards, replication_factor=replicas,
        )
        with warnings.catch_warnings():  # local mode keeps no payload indexes and says so
            warnings.simplefilter("ignore")
            client.create_payload_index(version.name, "outlet", models.PayloadSchemaType.KEYWORD)
            client.create_payload_index(version.name, "day", models.PayloadSchemaType.INTEGER)
        step("created-collection")
        documents = _write_documents(index, client, version.name, batch, models)
        step("wrote-documents")
        passages = _write_passages(index, client, version.name, documents, batch, models, step)
        _write_meta(index, client, version, documents, models)
        step("wrote-meta")
        stored = client.count(version.name, exact=True).count
        expected = passages + len(documents) + 1 + -(-len(index.vocab) // VOCAB_CHUNK)
        if stored != expected:
            raise IndexWriteFailed(f"Qdrant collection {version.name} holds {stored} points, not {expected}")
        previous = current_version(client, alias)
        ops = [models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=version.name,
                                                                            alias_name=alias))]
        if previous is not None:
            ops.insert(0, models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias)))
        client.update_collection_aliases(ops)  # one request: readers see the old version or the new, never none
        step("published")
    except BaseException:
        with contextlib.suppress(Exception):
            if current_version(client, alias) != version.name:
                client.delete_collection(version.name)
        raise
    drop_old_versions(client, alias, keep={version.name} | ({previous} if previous else set()))
    step("cleaned")
    return Published(version.name, previous, passages, len(documents), time.perf_counter() - t0)


def drop_old_versions(client, alias: str, keep: set[str]) -> None:
    """Delete this alias's versions other than `keep` (a reader may still be on the previous one)."""
    for c in client.get_collections().collections:
        v = Version.parse(c.name)
        if v is not None and v.alias == alias and c.name not in keep:
            client.delete_collection(c.name)


def _documents(index: Index) -> Iterator[tuple[int, int, object]]:
    """(segment number, document row in it, document) of the live files' documents."""
    for k, (seg, doc_ranges) in enumerate(index.doc_ranges()):
        for a, b in doc_ranges:
            for row in range(a, b):
                yield k, row, seg.store.document(row)


def _write_documents(index: Index, client, name: str, batch: int, models) -> dict[str, int]:
    """Document id → its point id."""
    out: dict[str, int] = {}
    points = []
    for number, (_, _, doc) in enumerate(_documents(index)):
        out[doc.id] = doc_point(number)
        points.append(models.PointStruct(id=doc_point(number), vector={},
                                         payload={"kind": "document", "doc": doc_to_json(doc)}))
        if len(points) == batch:
            client.upsert(name, points, wait=True)
            points = []
    if points:
        client.upsert(name, points, wait=True)
    return out


def _write_passages(index: Index, client, name: str, documents: dict[str, int], batch: int, models,
                    step: Callable[[str], None]) -> int:
    written = 0
    for k, seg in enumerate(index.segments):
        base = int(index.starts[k])
        ptr, terms, saturated = bm25.row_saturations(seg.postings, index.avgdl)
        live = np.flatnonzero(index.live[base:base + seg.rows])
        for a in range(0, len(live), batch):
            local = live[a:a + batch]
            rows = (local + base).tolist()
            vectors = index.vectors(rows)
            sentence_vectors = index.sentence_vectors(rows)
            points = []
            for row, r, vector, sentences in zip(rows, local.tolist(), vectors, sentence_vectors):
                p = index.passage(row)
                doc = index.document(p)
                lo, hi = int(ptr[r]), int(ptr[r + 1])
                points.append(models.PointStruct(
                    id=row,
                    vector={DENSE: vector.tolist(),
                            SENTENCES: sentences.tolist(),
                            SPARSE: models.SparseVector(indices=terms[lo:hi].tolist(),
                                                        values=saturated[lo:hi].tolist())},
                    payload={"kind": "passage", "id": p.id, "doc": documents[p.doc_id], "doc_id": p.doc_id,
                             "para": p.paragraph, "start": p.start, "end": p.end, "text": p.text,
                             "section": p.section, "pkind": p.kind,
                             "sentences": [list(s) for s in p.sentences],
                             "sentence_tokens": [t.tolist() for t in index.sentences_token_ids(row)],
                             "outlet": doc.source or "", "day": day_number(doc.date), "path": doc.path},
                ))
            client.upsert(name, points, wait=True)
            written += len(points)
            if a == 0 and k == 0:
                step("writing-passages")  # a version half written: a crash here must not matter
    return written


def _write_meta(index: Index, client, version: Version, documents: dict[str, int], models) -> None:
    words = index.vocab.all_words()
    df = index.df(range(len(words))).tolist() if words else []
    m = index.manifest
    stale = np.repeat(np.asarray(index.stale_cut, dtype=bool), [seg.rows for seg in index.segments])
    info = Description(
        generation=version.name, built_at=m.built_at, encoder=m.encoder, tokenizer=m.tokenizer, counts=m.counts,
        rows=index.rows, live=tuple(map(tuple, ranges(index.live))), stale=tuple(map(tuple, ranges(stale))),
        documents=tuple(documents.items()), files={path: f.sha256 for path, f in m.files.items()},
        warnings=tuple((w.path, w.reason) for w in m.warnings), vocabulary=len(words))
    points = [models.PointStruct(id=meta_point(0), vector={}, payload=info.to_json())]
    for n, a in enumerate(range(0, len(words), VOCAB_CHUNK), 1):
        points.append(models.PointStruct(id=meta_point(n), vector={},
                                         payload={"kind": "vocabulary", "words": words[a:a + VOCAB_CHUNK],
                                                  "df": df[a:a + VOCAB_CHUNK]}))
    client.upsert(version.name, points, wait=True)


@contextlib.contextmanager
def lease(client, alias: str, owner: str | None = None, seconds: float = LEASE_SECONDS, settle: float = 0.2):
    """Hold the alias's reindex lease: one builder at a time across every replica sharing the cluster.

    Qdrant has no compare-and-set, so the lease is written, then read back after `settle` seconds: of two
    builders writing at once, the one whose write landed last wins and the other backs off. A lease older
    than `seconds` (its builder died) is taken over.
    """
    from qdrant_client import models

    owner = owner or uuid.uuid4().hex
    name = lease_collection(alias)
    if not client.collection_exists(name):
        with contextlib.suppress(Exception):  # another replica created it first
            client.create_collection(name, vectors_config={})
    held = client.retrieve(name, [0])
    if held and held[0].payload.get("owner") != owner and held[0].payload.get("until", 0) > time.time():
        raise IndexBusy(f"another replica is reindexing into {alias}; try again when it is done")
    client.upsert(name, [models.PointStruct(id=0, vector={}, payload={"owner": owner, "until": time.time() + seconds})],
                  wait=True)
    time.sleep(settle)
    held = client.retrieve(name, [0])
    if not held or held[0].payload.get("owner") != owner:
        raise IndexBusy(f"another replica is reindexing into {alias}; try again when it is done")
    try:
        yield owner
    finally:
        held = client.retrieve(name, [0])
        if held and held[0].payload.get("owner") == owner:
            client.delete(name, points_selector=models.PointIdsList(points=[0]), wait=True)
