"""For editors and communities: related wisdom, near-duplicates, practitioners, learning.

- :mod:`~graph.editorial.related`: entries of the Wisdom Book related to a draft or an
  entry, and its near-duplicates;
- :mod:`~graph.editorial.practitioners`: people to ask about it;
- :mod:`~graph.editorial.communities`: what a community can learn from others;
- :mod:`~graph.editorial.passages` and :mod:`~graph.editorial.text`: where two texts
  meet (passages, shared words, word shingles);
- :mod:`~graph.editorial.explain`: the pieces every explanation is built from.

Text similarity comes only through :class:`graph.similarity.TextSimilarity` and words
through a :data:`~graph.editorial.text.Tokenizer`, both given by the caller. Privacy is
the caller's too: it passes the ids that may be returned and the links it may see.
"""

from graph.editorial.communities import Learning, learn_from_communities
from graph.editorial.explain import Item, NodeSource
from graph.editorial.passages import PassageVectors
from graph.editorial.practitioners import find_practitioners
from graph.editorial.related import NEAR_DUPLICATE, Draft, Related, related_wisdom
from graph.editorial.text import Tokenizer

__all__ = [
    "NEAR_DUPLICATE",
    "Draft",
    "Item",
    "Learning",
    "NodeSource",
    "PassageVectors",
    "Related",
    "Tokenizer",
    "find_practitioners",
    "learn_from_communities",
    "related_wisdom",
]
