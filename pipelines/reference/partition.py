"""Which Kafka partition carries an asset key: the default partitioner's murmur2(key bytes) & 0x7fffffff mod n.

Kafka's Java client and kafka-python's ``kafka.partitioner.default`` map keys this way; pipelines/ does not import
Kafka, so the hash lives here (tests check it against kafka-python's). Per-asset reference shards are numbered by
it, so an instance that owns partitions P reads only the shards numbered P.
"""

from __future__ import annotations

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """MurmurHash2 (seed 0x9747b28c) as org.apache.kafka.common.utils.Utils.murmur2, unsigned 32-bit."""
    n = len(data)
    h = (0x9747B28C ^ n) & _MASK
    for i in range(0, n - n % 4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = n % 4
    base = n - tail
    if tail >= 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a message keyed by ``key`` (UTF-8) on ``partitions``."""
    if partitions < 1:
        raise ValueError(f"partitions must be >= 1, got {partitions}")
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
