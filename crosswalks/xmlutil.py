"""Safe XML parsing for readers: no entities resolved, no network, any DOCTYPE refused.

:func:`parse_xml` never raises: it returns ``(root, None)`` or ``(None, problem)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from lxml import etree

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_REFUSED = "XML refused: DOCTYPE or ENTITY declaration (XXE / entity expansion risk)"
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 (and UTF-32 LE) byte-order marks
_DECLARATIONS = (b"DOCTYPE", b"ENTITY")  # after "<!"
_BANGS_CHECKED = 32  # more "!" than this: the two substring scans instead of a check per "!"


def _declares(data: bytes) -> bool:
    """True when ``data`` holds ``<!DOCTYPE`` or ``<!ENTITY``.

    XML markup is case-sensitive: libxml2 reads only these spellings as declarations and
    refuses any other (``<!doctype`` is a syntax error, nothing is declared or expanded). Every
    declaration needs a ``!``, which most records lack: one memchr finds that (0.3 us on 15 KB,
    against 9 us for the two substring scans, slowed by the many ``<`` they must test). A
    record with a few ``!`` (comments, CDATA, an exclamation in a title) has each checked; one
    with many falls back to the scans, so no input makes this slower than they are."""
    bang = data.find(b"!")
    if bang == -1:
        return False
    if data.count(b"!", bang) > _BANGS_CHECKED:
        return b"<!DOCTYPE" in data or b"<!ENTITY" in data
    while bang != -1:
        if data[bang - 1 : bang] == b"<" and data.startswith(_DECLARATIONS, bang + 1):
            return True
        bang = data.find(b"!", bang + 1)
    return False

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI = "http://www.openarchives.org/OAI/2.0/"

Element = etree._Element


def to_bytes(payload: bytes | str) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def parse_xml(payload: bytes | str) -> tuple[Element | None, str | None]:
    """Parse strictly. A DOCTYPE/ENTITY declaration is refused before parsing."""
    data = to_bytes(payload)
    if isinstance(payload, str) and data.lstrip().startswith(b"<?xml"):
        # an encoding declaration in a str payload would contradict the UTF-8 bytes we made
        data = _XML_DECL.sub(b"", data, count=1)
    if _declares(data):
        return None, _REFUSED
    if not data.strip():
        return None, "empty payload"
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        return None, f"malformed XML: {exc}"
    except (ValueError, TypeError) as exc:  # e.g. unsupported encoding declarations
        return None, f"unreadable XML: {exc}"
    if root is None:
        return None, "empty XML document"
    if (data[:2] in _WIDE_BOMS or b"\x00" in data[:4]) and root.getroottree().docinfo.internalDTD is not None:
        return None, _REFUSED  # UTF-16/32: the byte scan above cannot see its declarations
    return root, None


# tag -> local name; a document uses a few dozen distinct tags, so a dict hit replaces rsplit
_LOCAL: dict[object, str] = {}


def local(tag: object) -> str:
    """Local name of an element tag (``''`` for comments / PIs)."""
    hit = _LOCAL.get(tag)
    if hit is not None:
        return hit
    value = tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
    if len(_LOCAL) < 4096:  # bounded: adversarial input cannot grow it without limit
        _LOCAL[tag] = value
    return value


def ns(el: Element) -> str:
    tag = el.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def text(el: Element | None) -> str | None:
    """All text inside ``el``, whitespace collapsed; ``None`` when empty."""
    if el is None:
        return None
    if len(el) == 0:  # leaf: no itertext walk
        raw = el.text
        if not raw:
            return None
        value = raw.strip()
        if "  " in value or "\n" in value or "\t" in value or "\r" in value:
            value = " ".join(value.split())
        return value or None
    value = " ".join("".join(el.itertext()).split())
    return value or None


def children(el: Element, name: str) -> Iterator[Element]:
    """Direct children with local name ``name`` (any namespace; matched inside lxml)."""
    return el.iterchildren(f"{{*}}{name}")


def child(el: Element, name: str) -> Element | None:
    return next(el.iterchildren(f"{{*}}{name}"), None)


def first_children(el: Element) -> dict[str, Element]:
    """The first direct child per local name, in one pass (cheaper than a lookup per name:
    ``child()`` walks every child, since lxml's iterators look one match ahead)."""
    first: dict[str, Element] = {}
    for c in el:
        tag = c.tag
        name = _LOCAL.get(tag) or local(tag)
        if name not in first:
            first[name] = c
    return first


def group_children(el: Element, *tags: str) -> dict[str, list[Element]]:
    """Direct children by local name, each list in document order, in one pass. With ``tags``
    (``"{*}name"`` filters) only those children: lxml skips the others without proxies."""
    groups: dict[str, list[Element]] = {}
    for c in el.iterchildren(*tags) if tags else el:
        tag = c.tag
        name = _LOCAL.get(tag) or local(tag)
        group = groups.get(name)
        if group is None:
            groups[name] = [c]
        else:
            group.append(c)
    return groups



def first_in(groups: dict[str, list[Element]], name: str) -> Element | None:
    """The first element of ``groups[name]`` (a :func:`group_children` result), else ``None``."""
    group = groups.get(name)
    return group[0] if group else None

def child_text(el: Element, name: str) -> str | None:
    return text(child(el, name))


def descendants(el: Element, name: str) -> Iterator[Element]:
    """``el`` and its descendants with local name ``name`` (any namespace)."""
    return el.iter(f"{{*}}{name}")


def attr(el: Element, name: str) -> str | None:
    """Attribute by local name (namespaced or not); stripped, ``None`` when empty."""
    value = el.get(name)
    if value is None:
        suffix = "}" + name  # a namespaced attribute with this local name
        for key in el.keys():  # noqa: SIM118 - an Element iterates its children, not its keys
            if key.endswith(suffix):
                value = el.get(key)
                break
    if value is None:
        return None
    value = value.strip()
    return value or None


def lang(el: Element) -> str | None:
    value = el.get(XML_LANG) or el.get("lang")
    if value:
        value = value.strip()
    return value or None


def lang_texts(els: Iterable[Element]) -> list[tuple[str | None, str]]:
    """``(lang(el), text(el))`` for each element of ``els`` that has text, in order."""
    out: list[tuple[str | None, str]] = []
    for el in els:
        value = text(el)
        if value:
            code = el.get(XML_LANG) or el.get("lang")  # lang(el), inlined
            out.append(((code.strip() or None) if code else None, value))
    return out
