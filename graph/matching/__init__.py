"""Recommendations: collaborators for a person, initiatives to join, people for an initiative.

Candidates come from the graph, from text similarity and from complementarity
(:mod:`~graph.matching.candidates`), are described by features
(:mod:`~graph.matching.features`), scored and diversified
(:mod:`~graph.matching.scoring`), and explained (:mod:`~graph.matching.explain`).
Text similarity is the :class:`graph.similarity.TextSimilarity` interface; privacy and
consent come in as predicates (:class:`~graph.matching.context.Audience`).
"""
