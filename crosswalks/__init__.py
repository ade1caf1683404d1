"""linkgraph.crosswalks: one pure reader per source format, raw payload -> common Work.

Readers are registered in ``registry``; ``pipeline`` runs them over ``raw_records`` into
``works``, ``identifiers``, ``relations`` and ``problems``. Mapping tables live in ``data/``.
"""
