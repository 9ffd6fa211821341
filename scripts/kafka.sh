#!/usr/bin/env bash
# The local Kafka broker for tests, CI and the demo: runs the script shipped in the package (latentwatch/kafka/kafka.sh,
# the same one `latentwatch kafka ...` runs). Subcommands and settings: see that file's header.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../latentwatch/kafka/kafka.sh" "$@"
