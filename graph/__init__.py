"""The domain: node and edge models, the store, the networkx view, queries and data loading."""
