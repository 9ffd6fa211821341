"""The wire format: what travels on the daemon's topics, in one place that both the decode step and the load
generator use.

``schema`` (the input's fields, version and ``Reason``/``InvalidMessage``), ``json_codec`` and ``binary_codec`` (one
message each way), ``records`` (a batch of Kafka records to ``Windows``), ``bounds`` (the per-window limits of the
config's ``input`` section), ``alert`` (the alert message and its ids), ``sizes`` (a record as the broker counts it).
"""
