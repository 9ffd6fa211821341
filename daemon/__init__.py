"""The online daemon: Kafka in, scores and alerts out, offsets committed only after the alerts are acknowledged.

The chain (``daemon/steps/``, one job per module, each with a ``next_step``):
    batcher -> decode (dead letters) -> score (OnlineModel.score) -> threshold (ThresholdBank)
    -> alert policy (EpisodeTracker) -> sink (alert producer) -> commit (flush, then commit offsets)
Around it: ``service`` (the loop and lifecycle), ``rebalance`` (drain on revoke), ``model_holder`` (hot swap),
``checkpoint`` (durable thresholds and episodes), ``notify`` (sd_notify), ``signals``, ``reload`` (SIGHUP),
``health`` and ``metrics`` (HTTP), ``kafka_clients``, ``decode``/``dead_letter``/``alerts`` (message formats).
"""
