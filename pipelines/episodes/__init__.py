"""Episodes: per-window alarms grouped into open, update and close events (the alert message is daemon's)."""

from pipelines.episodes.episodes import EpisodeEvent, EpisodeTracker, episode_id

__all__ = ["EpisodeEvent", "EpisodeTracker", "episode_id"]
