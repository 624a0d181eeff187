"""Analytics for sector councils: overlap, synergies, bridges, groups, gaps, council proposals.

Pure functions of the graph view (plus the store for names, texts and consent flags, and
a :class:`~graph.similarity.TextSimilarity` for what texts say), computed per audience so
that no figure counts or names someone the caller may not list;
:class:`~graph.analytics.engine.SectorAnalytics` caches them per view version. How each
figure is computed is in the module of the same name and in ``docs/councils.md``.
"""

from graph.analytics.engine import SectorAnalytics
from graph.analytics.errors import NotASector
from graph.analytics.regions import Regions, load_regions
from graph.analytics.snapshot import Audience

__all__ = ["Audience", "NotASector", "Regions", "SectorAnalytics", "load_regions"]
