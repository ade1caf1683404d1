"""linkgraph.harvest: connectors that fetch pages and keep raw payloads.

HTTP transport (``http``, ``ratelimit``, ``lookahead``), the OAI-PMH client and harvester
(``oai``, ``oai_harvest``), the REST registries (``crossref``, ``datacite``, ``jalc``,
``figshare``, ``agency``, ``rest_harvest``), checkpoints and the batched writer into
``raw_records``. The simulated servers the tests harvest from live in ``linkgraph.replay``.
"""
