import random

from kafka.partitioner.default import murmur2 as kafka_murmur2

from pipelines.reference.partition import murmur2, partition_of


def test_murmur2_matches_kafka_python_on_every_tail_length():
    rng = random.Random(0)
    keys = [b"", b"a", b"ab", b"abc", b"skab/valve1/0", "asset-\u00e9-17".encode()]
    keys += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(300)]
    for key in keys:
        assert murmur2(key) == kafka_murmur2(key), key


def test_partition_of_matches_the_default_partitioner_formula():
    for i in range(200):
        key = f"asset-{i}"
        assert partition_of(key, 12) == (kafka_murmur2(key.encode()) & 0x7FFFFFFF) % 12
    assert {partition_of(f"a{i}", 4) for i in range(100)} == {0, 1, 2, 3}
