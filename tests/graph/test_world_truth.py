"""The audits against a generated world with planted truth, harvested through the replay server."""

from __future__ import annotations

import json
from collections import Counter

from linkgraph.graph.audit import KINDS
from linkgraph.replay.world import LOOKALIKES, PLANTED
from linkgraph.replay.world_serve import flagged_lookalikes, score_findings

from linkgraph.store import Store

from .conftest import AuditedWorld

RULE_BASED = [k for ks in KINDS.values() for k in ks if k != "same_content"]


def test_world_is_served_in_every_format_and_harvested_whole(audited_world: AuditedWorld) -> None:
    world, run = audited_world.world, audited_world.run
    by_registry = Counter(w.registry for w in world.works)
    assert run.records == {
        "world-figshare:portal_999": by_registry["jstage-data"],
        "world-repository": by_registry["repository"],
        "world-jalc": by_registry["jalc"],
        "world-crossref": by_registry["crossref"],
        "world-datacite": by_registry["datacite"],
    }
    with Store(audited_world.db, read_only=True) as store:
        formats = {r[0] for r in store.query("SELECT DISTINCT source_format FROM works")}
    assert {"jalc-json", "crossref-json", "datacite-json", "datacite-xml", "jpcoar"} <= formats


def test_truth_has_the_planned_counts(audited_world: AuditedWorld, tmp_path) -> None:
    world = audited_world.world
    counts = Counter(p.kind for p in world.truth)
    assert counts == Counter({k: n * world.scale for k, n in PLANTED.items()})
    assert len(world.lookalikes) >= sum(LOOKALIKES.values())
    world.write_truth(str(tmp_path / "truth.json"))
    doc = json.loads((tmp_path / "truth.json").read_text("utf-8"))
    assert doc["counts"] == dict(counts) and len(doc["findings"]) == len(world.truth)


def test_rule_based_audits_find_what_was_planted(audited_world: AuditedWorld) -> None:
    with Store(audited_world.db, read_only=True) as store:
        scores = score_findings(store, audited_world.world)
    for kind in RULE_BASED:
        s = scores[kind]
        assert s.planted > 0, kind
        assert s.precision >= 0.98 and s.recall >= 0.98, (kind, s)


def test_same_content_duplicates_meet_the_target_and_look_alikes_are_not_flagged(
    audited_world: AuditedWorld,
) -> None:
    with Store(audited_world.db, read_only=True) as store:
        s = score_findings(store, audited_world.world)["same_content"]
        flagged = flagged_lookalikes(store, audited_world.world)
        scores = [r[0] for r in store.query("SELECT score FROM findings WHERE kind = 'same_content'")]
    assert s.precision >= 0.9 and s.recall >= 0.8, s
    assert flagged == []
    assert scores and all(0.86 <= x <= 1.0 for x in scores)


def test_findings_carry_both_sides_and_evidence(audited_world: AuditedWorld) -> None:
    with Store(audited_world.db, read_only=True) as store:
        rows = store.query(
            "SELECT subject_registry, object_registry, subject_prefix, object_prefix, subject_date, object_date,"
            " evidence FROM findings WHERE kind = 'missing_reciprocal'")
        jstage = store.query(
            "SELECT DISTINCT subject_registry FROM findings WHERE subject_prefix = '10.57400'")
    assert rows
    for sreg, oreg, spre, opre, sdate, odate, evidence in rows:
        assert sreg in ("jalc", "crossref", "datacite") and oreg in ("jalc", "crossref", "datacite")
        assert spre.startswith("10.") and opre.startswith("10.")
        assert sdate is not None and odate is not None
        assert "expected_back" in json.loads(evidence)
    # J-STAGE Data DOIs come through figshare's oai_datacite, but doi.org says JaLC registered them.
    assert jstage == [("jalc",)]


def test_duplicates_are_clustered(audited_world: AuditedWorld) -> None:
    with Store(audited_world.db, read_only=True) as store:
        rows = store.query("SELECT kind, subject_doi, object_doi, cluster_id FROM findings"
                           " WHERE family = 'duplicates'")
    assert rows and all(c is not None for *_, c in rows)
    by_url = {}
    for kind, subject, obj, cluster in rows:
        assert cluster == min(cluster, subject, obj)
        if kind == "duplicate_url":
            by_url.setdefault(cluster, set()).update({subject, obj})
    assert sorted(len(v) for v in by_url.values()) == [3] * (PLANTED["duplicate_url"] * audited_world.world.scale // 2)


def test_version_cycle_names_its_members(audited_world: AuditedWorld) -> None:
    with Store(audited_world.db, read_only=True) as store:
        rows = store.query("SELECT evidence FROM findings WHERE kind = 'version_cycle'")
    assert len(rows) == PLANTED["version_cycle"] * audited_world.world.scale
    for (evidence,) in rows:
        doc = json.loads(evidence)
        assert len(doc["members"]) == 3 and doc["cycle"][0] == doc["cycle"][-1] == min(doc["members"])


def test_links_stated_only_in_text_are_found_exactly(audited_world: AuditedWorld) -> None:
    """Datasets and articles that name each other only in a description, an abstract or a
    Japanese full-width data statement: every one is found, nothing else is (the background
    pairs that say it in text *and* in metadata are not), each with its sentence and the
    fragment that would state it."""
    world = audited_world.world
    with Store(audited_world.db, read_only=True) as store:
        s = score_findings(store, world)["text_only_link"]
        rows = store.query(
            "SELECT subject_key, object_doi, relation_type, evidence, fix_owner, fix_format, fix_fragment,"
            " fix_valid FROM findings WHERE kind = 'text_only_link'")
        mined = store.query("SELECT count(*) FROM relations WHERE asserted_by = 'text'")[0][0]
        stated_text = store.query(
            "SELECT count(*) FROM link_snapshots s JOIN relations r ON r.subject_doi = s.subject_doi"
            " AND r.target = s.target WHERE r.asserted_by = 'text' AND s.relation_type = 'IsRelatedTo'")[0][0]
    assert s.planted == PLANTED["text_only_link"] * world.scale
    assert (s.precision, s.recall) == (1.0, 1.0), s
    assert mined > len(rows)  # the background's text links are read, and not reported
    assert stated_text == 0  # text links never enter the stated link set
    truth = {(p.subject_key, p.obj): p.relation_type for p in world.truth if p.kind == "text_only_link"}
    for subject, obj, rel, evidence, owner, fmt, fragment, valid in rows:
        assert truth[(subject, obj)] == rel
        doc = json.loads(evidence)
        assert doc["target_held"] is True and doc["sentence"]
        assert owner == "subject" and fmt in ("jalc-xml", "crossref-xml", "datacite-json")
        assert obj in fragment and rel.lower() in fragment.lower() and valid is not False
    sentences = {json.loads(r[3])["sentence"] for r in rows}
    assert any("で公開している。" in t for t in sentences)  # the full-width Japanese statement
