"""The build's encoder pool: worker processes give the vectors this process would, in order."""

import numpy as np

from embeddings.encoders import make_encoder
from embeddings.pool import POOLED_FROM, EncoderPool


def texts(n: int) -> list[str]:
    return [f"第{i}句：仓库今年存货{i * 7}吨，明年扩建{i % 13}座。" for i in range(n)]


def test_a_pool_of_two_workers_returns_what_one_process_would_in_order():
    many = texts(POOLED_FROM * 3 + 17)
    with EncoderPool("hash:64", 2) as pool:
        batches = list(pool.stream([many[:POOLED_FROM * 2], many[POOLED_FROM * 2:]]))
        assert pool._executor is not None  # the large batches went to the workers
        again = pool.encode(many[:5])
    local = make_encoder("hash:64").encode(many)
    assert np.array_equal(np.concatenate(batches), local)
    assert np.array_equal(again, local[:5])
    assert pool._executor is None  # closed: no worker processes left behind


def test_small_calls_and_a_single_worker_stay_in_this_process():
    with EncoderPool("hash:64", 2) as pool:
        pool.encode(texts(POOLED_FROM - 1))
        assert pool._executor is None
    with EncoderPool("hash:64", 1) as pool:
        assert pool.id == "hash:64" and pool.dim == 64
        pool.encode(texts(POOLED_FROM * 2))
        assert pool._executor is None
