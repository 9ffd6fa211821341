"""`latentwatch bench e2e`: the daemon end to end through the real broker, next to a bare kafka-python consumer.

    latentwatch bench e2e                                   # 100k windows, 2,000/s for 30 s, a profiled pass
    latentwatch bench e2e --windows 2000 --rate 200 --duration 3 --no-profile    # the smoke test's size

Three measurements, each on its own topics (4 input partitions) and its own consumer group, one daemon instance
(``python -m latentwatch run --config FILE``, a child process, ``OMP_NUM_THREADS=1``):

1. **throughput**: ``--windows`` SKAB windows (the labelled runs, looped) are produced up front with the replay
   producer (``latentwatch.replay.replay``). Then, on the same topic: a bare ``KafkaConsumer`` loop (assign, seek to
   the beginning, ``poll(max_records=1000)`` until every record is seen: no decoding) -> raw records/s; the daemon from
   an empty group until its committed offsets reach the end offsets -> windows/s (from the first record it consumed
   to the last commit, sampled from its /metrics every 0.25 s); the bare loop again. ratio = daemon / mean of the two
   bare runs, so a change of load on a shared machine during the run shows up as a gap between the two bare runs.
   The daemon's config is ``--config`` (default conf/local.yaml: batches of 1000, linger 5 ms, DSPOT) with only the
   topics, group, artifact, checkpoint path and HTTP port replaced. Also reported: the daemon's CPU seconds
   (main thread vs kafka-python's background threads, from /proc) and windows per CPU second.
2. **latency**, twice, each with a fresh daemon; the replay producer sends at ``--rate`` windows/s for
   ``--duration`` s once the daemon reports healthy:
   a. *every window alerting* (the method the goal is stated for): the SKAB windows are shifted far out of the
      normal range (``x * 50 + 100``; their ARES scores sit about 80x above the threshold), the threshold is
      SPOT (DSPOT's ``absorb_after`` would take a persistent shift into its baseline and stop alarming) and
      ``episodes.update_every: 1``, so each window publishes one alert (an asset's first ``open``, the rest
      ``update``). Latency of a window = the alert record's timestamp (CreateTime, stamped by the daemon's producer in
      ``send()``) minus the input record's timestamp (stamped by the replay's producer in ``send()``), joined on the
      alert's ``source`` (partition, offset); one clock (this machine), 1 ms resolution. Every alert is one more
      produced message and one more log line: the alert path's worst case.
   b. *ordinary traffic*: the SKAB windows as they are with the config's thresholds (few alerts); latency = the
      moment the bench first sees the window's offset committed (the group's offsets polled every 10 ms) minus the
      input timestamp. The daemon commits only after the batch's alerts are acknowledged, so this bounds
      produce-to-alert for every window, alerted or not.
   Peer, same run: a bare consumer thread reading the same input topic; its delivery latency (consumed - input
   timestamp) is what Kafka and this machine's load cost before the daemon does anything.
3. **profile** (``--no-profile`` to skip): the throughput run again under cProfile (``python -m cProfile -m
   latentwatch run``) on the same topic with a new group; the main thread's time split into consumer poll, decode,
   scoring, thresholds, alert policy, producer sends, commit (flush + offset commit), metrics, and the rest. cProfile
   slows Python code down (kafka-python's record parsing most), so its windows/s is not the throughput number and
   its shares lean towards Python-heavy parts. When py-spy is installed (``--py-spy``), a fourth pass is sampled by
   it (every thread, 200 Hz, no instrumentation): CPU microseconds per window per part, background threads included.

Prints a table and writes everything as JSON (``--out``, default out/bench-e2e.json). Goals (from the issue):
>= 10,000 windows/s per instance, >= 0.5x the raw consume rate, p99 <= 200 ms at 2,000 windows/s.

Modules: command (the phases in order), harness (the daemon under test, the bare consumer, topics),
latency, profiling, report.
"""

from latentwatch.bench.e2e.command import add_arguments, run

__all__ = ["add_arguments", "run"]
