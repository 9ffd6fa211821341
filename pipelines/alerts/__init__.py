"""Alert shaping: turn per-window alarms into episodes."""
from pipelines.alerts.episodes import EpisodeEvent, EpisodeTracker, episode_id

__all__ = ["EpisodeEvent", "EpisodeTracker", "episode_id"]
