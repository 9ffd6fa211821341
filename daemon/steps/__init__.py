"""The chain, in order: batcher -> decode -> score -> threshold -> alert policy -> sink -> commit."""
