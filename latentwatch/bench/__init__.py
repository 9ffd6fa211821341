"""The benchmarks behind `latentwatch bench <name>`: tooling beside the CLI, never on the daemon's path.

One module or subpackage per thing measured, each with ``add_arguments(parser)`` and ``run(args) -> int`` (the
registry is ``latentwatch/commands/bench.py``): ``scoring`` (scorers vs the raw Annoy loop and PyOD),
``thresholds`` (SPOT/DSPOT speed and false alarms), ``assets`` (per-asset references at fleet scale), ``state``
(per-asset state at 100k assets; ``restart`` times a real daemon's restart from that checkpoint), ``e2e`` (the daemon
through the real broker), ``explain`` (do alerts name the sensor a fault was injected into).
"""
