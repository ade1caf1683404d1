"""Helpers for the replay-server tests: strict XML parsing and a minimal paging loop.

The paging loop is deliberately independent of the project's harvester so the server is
checked against the protocol, not against the code it is meant to test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from lxml import etree

OAI = "{http://www.openarchives.org/OAI/2.0/}"
STRICT = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)


def parse(body: bytes) -> etree._Element:
    """Strict parse: a truncated or invalid document raises XMLSyntaxError."""
    return etree.fromstring(body, STRICT)


def error_code(root: etree._Element) -> str | None:
    err = root.find(f"{OAI}error")
    return None if err is None else err.get("code")


def oai(client: httpx.Client, url: str, **params: str) -> etree._Element:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    return parse(r.content)


@dataclass
class Harvest:
    identifiers: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    tokens: list[etree._Element] = field(default_factory=list)  # every <resumptionToken>
    pages: int = 0


def harvest(client: httpx.Client, url: str, verb: str = "ListRecords", **args: str) -> Harvest:
    """Follow resumption tokens to the end; collects identifiers in order."""
    out = Harvest()
    params = {"verb": verb, **args}
    for _ in range(10_000):
        root = oai(client, url, **params)
        assert error_code(root) is None, etree.tostring(root)
        out.pages += 1
        for header in root.iter(f"{OAI}header"):
            ident = header.findtext(f"{OAI}identifier")
            out.identifiers.append(ident)
            if header.get("status") == "deleted":
                out.deleted.append(ident)
        token = root.find(f".//{OAI}resumptionToken")
        if token is None:
            return out
        out.tokens.append(token)
        if not (token.text or "").strip():
            return out
        params = {"verb": verb, "resumptionToken": token.text}
    raise AssertionError("resumption tokens never ended")
