"""Golden tests: every record-bearing shared fixture against hand-checked expectations in
``golden/*.json``, compared field by field (relation lists in full, order-insensitive)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.report import report_from_works

from .helpers import GOLDEN, SHARED, load_works

GOLDEN_FILES = sorted(GOLDEN.glob("*.json"))
SCALARS = (
    "doi", "registration_agency", "source_format", "record_id", "resource_type",
    "resource_type_raw", "year", "title", "publisher", "container", "landing_url", "version",
)


def _rel_tuple(r: Any) -> list[Any]:
    return [r.relation_type, r.raw_type, r.target_scheme, r.target, r.asserted_by, r.problems]


def _check_record(name: str, work: Work, exp: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    where = f"{name}[{exp['index']}]"
    for field in SCALARS:
        if field in exp:
            got = work.title if field == "title" else getattr(work, field)
            if got != exp[field]:
                errors.append(f"{where}.{field}: expected {exp[field]!r}, got {got!r}")
    if "titles" in exp:
        got = [[t.text, t.lang, t.kind] for t in work.titles]
        if got != exp["titles"]:
            errors.append(f"{where}.titles: expected {exp['titles']!r}, got {got!r}")
    if "creator_count" in exp and len(work.creators) != exp["creator_count"]:
        errors.append(f"{where}.creators: expected {exp['creator_count']} entries, got {len(work.creators)}")
    if "first_creator" in exp:
        if not work.creators:
            errors.append(f"{where}.creators: empty")
        else:
            c = work.creators[0]
            for key, value in exp["first_creator"].items():
                if getattr(c, key) != value:
                    errors.append(f"{where}.creators[0].{key}: expected {value!r}, got {getattr(c, key)!r}")
    for scheme, value in exp.get("identifiers_include", []):
        if not any(i.scheme == scheme and i.value == value for i in work.identifiers):
            errors.append(f"{where}.identifiers: missing ({scheme}, {value}); have {work.identifiers}")
    stated = [r for r in work.relations if r.asserted_by not in ("reference", "text")]
    mined = [[r.target_scheme, r.target, r.evidence] for r in work.relations if r.asserted_by == "text"]
    if "text_links" in exp and mined != exp["text_links"]:  # found in descriptions and abstracts
        errors.append(f"{where}.text_links: expected {exp['text_links']!r}, got {mined!r}")
    cited = sorted(r.target for r in work.relations if r.asserted_by == "reference")
    if "reference_dois" in exp and len(cited) != exp["reference_dois"]:
        errors.append(f"{where}.references: expected {exp['reference_dois']} DOIs, got {len(cited)}")
    for doi in exp.get("references_include", []):
        if doi not in cited:
            errors.append(f"{where}.references: {doi} not among the cited DOIs")
    if "relations" in exp:  # what the record states (its reference list is checked above)
        got = sorted((_rel_tuple(r) for r in stated), key=json.dumps)
        want = sorted(exp["relations"], key=json.dumps)
        missing = [r for r in want if r not in got]
        extra = [r for r in got if r not in want]
        if missing or extra:
            errors.append(f"{where}.relations: missing {missing}, unexpected {extra}")
    if "relation_targets" in exp:
        got = sorted([r.relation_type, r.target_scheme, r.target] for r in stated)
        want = sorted(exp["relation_targets"])
        if got != want:
            errors.append(
                f"{where}.relations (type, scheme, target): missing "
                f"{[r for r in want if r not in got]}, unexpected {[r for r in got if r not in want]}"
            )
    for t, scheme, target in exp.get("relation_types_include", []):
        if not any(r.relation_type == t and r.target_scheme == scheme and r.target == target
                   for r in work.relations):
            errors.append(f"{where}.relations: missing ({t}, {scheme}, {target})")
    if "problems" in exp and work.problems != exp["problems"]:
        errors.append(f"{where}.problems: expected {exp['problems']!r}, got {work.problems!r}")
    for prefix in exp.get("problems_prefix", []):
        if not any(p.startswith(prefix) for p in work.problems):
            errors.append(f"{where}.problems: none starts with {prefix!r}: {work.problems!r}")
    return errors


@pytest.mark.parametrize("golden", GOLDEN_FILES, ids=[p.stem for p in GOLDEN_FILES])
def test_golden(golden: Path) -> None:
    exp = json.loads(golden.read_text("utf-8"))
    works, deleted = load_works(exp["fixture"], exp["format"], exp.get("extract"))
    if exp.get("unreadable"):
        assert len(works) == 1 and not works[0].readable and works[0].problems
        return
    errors: list[str] = []
    if len(works) != exp["count"]:
        errors.append(f"expected {exp['count']} records, got {len(works)}")
    if deleted != exp.get("deleted", 0):
        errors.append(f"expected {exp.get('deleted', 0)} deleted records, got {deleted}")
    if "dois" in exp and [w.doi for w in works] != exp["dois"]:
        errors.append(f"DOIs: expected {exp['dois']}, got {[w.doi for w in works]}")
    for rec in exp.get("records", []):
        if rec["index"] >= len(works):
            errors.append(f"record {rec['index']} missing")
            continue
        errors.extend(_check_record(golden.stem, works[rec["index"]], rec))
    assert not errors, "\n".join(errors)


def test_every_record_bearing_fixture_has_a_golden_file() -> None:
    covered = {json.loads(p.read_text("utf-8"))["fixture"] for p in GOLDEN_FILES}
    not_records = {  # protocol responses, schemas and lookups: no metadata records in them
        "crossref/error_404_bad_cursor.txt", "crossref/relations.xsd",
        "datacite/datacite-relationType-v4.xsd", "datacite/oai_identify.xml",
        "datacite/oai_listmetadataformats.xml", "datacite/oai_listsets.xml",
        "jalc/doi_org_ra_10.11367.json", "jalc/rest_prefixes.json", "jpcoar/jpcoar_scm_2.0.xsd",
        "oai-pmh/eur_dspace_identify_2003.xml", "oai-pmh/malformed_bogus_wrapper_element.xml",
        "oai-pmh/malformed_undefined_entity.xml", "oai-pmh/sickle_ListIdentifiers.xml",
        "oai-pmh/sickle_ListIdentifiers2.xml", "oai-pmh/sickle_badResumptionToken.xml",
        "oai-pmh/sickle_cannotDisseminateFormat.xml", "oai-pmh/sickle_idDoesNotExist.xml",
        "oai-pmh/sickle_noRecordsMatch.xml", "other/doi_org_ra_not_found.json",
    }
    present = {
        str(p.relative_to(SHARED)) for p in SHARED.glob("*/*") if p.is_file()
    }
    missing = present - covered - not_records
    assert not missing, f"fixtures without golden expectations: {sorted(missing)}"


def test_loss_report_over_all_fixtures_drops_nothing() -> None:
    """Every relation in every fixture is mapped; what is not is Other *with* a problem."""
    works: list[Work] = []
    for golden in GOLDEN_FILES:
        exp = json.loads(golden.read_text("utf-8"))
        works.extend(load_works(exp["fixture"], exp["format"], exp.get("extract"))[0])
    rows = report_from_works(works)
    assert sum(r.count for r in rows) > 300
    assert sum(r.unmapped_silently for r in rows) == 0
    for r in rows:
        if r.kind in ("unknown", "untyped"):
            assert r.relation_type == "Other" and r.with_problem == r.count, r
    # every DataCite 4.7 type occurs in the kernel-4.7 full example and maps to itself
    exact = {r.relation_type for r in rows if r.source_format == "datacite-xml" and r.kind == "exact"}
    assert len(exact) == 39
