"""Text embeddings, the vector and lexical indexes, hybrid search and tagging.

Sees only (id, text) pairs and vectors, never graph objects.
"""
