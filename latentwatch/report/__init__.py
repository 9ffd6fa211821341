"""The visual report of a run: one self-contained HTML file (inline SVG, no script, no network) a person opens in a
browser, built only from what the daemon published.

    latentwatch report --from out/demo/run            # the files a demo (or an earlier report) wrote
    latentwatch report --config conf/local.yaml       # the alert and input topics on the broker

The score of a window that did not alarm is published nowhere: the live daemon sends alerts only. So the report
runs the input records through the daemon's own chain offline (``trace``: ``daemon.service.Daemon`` over in-memory
Kafka stand-ins, the same code ``daemon.offline`` runs), records every window's score, threshold and components as
the chain computed them, and checks that this run published the same alert ids as the live one. Without the input
records (or with ``--alerts-only``) it draws what the alerts carry and their thresholds.

Modules: run (what a report is made of), read (topics and files), trace (the offline run of the chain), measure
(episodes, detection, precision/recall/F1/FAR), svg (the plots), html (the page), browser (headless Chromium:
screenshots and the render check), demo (what ``latentwatch demo`` calls at its end).
"""
