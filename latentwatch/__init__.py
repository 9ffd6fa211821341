"""latentwatch: the daemon's command line, its tools, and the Python API.

``from latentwatch import Detector`` gives ``pipelines.api.Detector``; it is imported on first use, so
``import latentwatch`` (the CLI's start) does not load torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.api import Detector

__all__ = ["Detector"]


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from pipelines.api import Detector

        return Detector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
