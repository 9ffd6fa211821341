from pipelines.reference.build import Reference, build_reference
from pipelines.reference.search import NeighbourIndex, exact_knn

__all__ = ["NeighbourIndex", "Reference", "build_reference", "exact_knn"]
