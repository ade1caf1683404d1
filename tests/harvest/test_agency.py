"""doi.org RA lookup (cached per prefix), `linkgraph resolve`, and `harvest targets`."""

from __future__ import annotations

from pathlib import Path

from linkgraph.store import Store

from .registry_helpers import Registries, cli_json, stored


def _add_relations(db: Path, targets: list[str]) -> None:
    with Store(db) as store, store.transaction() as cur:
        for t in targets:
            cur.execute(
                "INSERT INTO relations (source, record_id, work_seq, work_key, source_format, relation_type,"
                " target_scheme, target, target_raw, asserted_by) VALUES ('s', 'r', 0, 'k', 'x',"
                " 'IsSupplementTo', 'doi', ?, ?, 'subject')", [t, t])


def test_resolve_names_the_agency_and_fetches_the_record(registries: Registries, tmp_path: Path) -> None:
    db = tmp_path / "r.duckdb"
    rows = cli_json("resolve", "https://doi.org/10.11473/FCN.2017E.1", "doi:10.7554/eLife.01567",
                    "10.5281/zenodo.28518", "10.99999/nobody", *registries.endpoints(), db=db)
    assert [(r["doi"], r["agency"], r["found"]) for r in rows] == [
        ("10.11473/fcn.2017e.1", "JaLC", True),
        ("10.7554/elife.01567", "Crossref", True),
        ("10.5281/zenodo.28518", "DataCite", True),
        ("10.99999/nobody", None, False),
    ]
    assert rows[1]["record"]["relation"]["is-supplemented-by"][0]["id"] == "10.5061/dryad.b835k"
    assert "10.5281/zenodo.28518" in stored(db, "datacite-targets")
    ra = registries.app("doiorg")
    asked = ra.observer.count()
    assert asked == 1  # four prefixes, one batched doi.org request
    cli_json("resolve", "10.11473/fcn.2018e.1", *registries.endpoints(), db=db)
    assert ra.observer.count() == asked  # 10.11473 came from the cache
    with Store(db, read_only=True) as store:
        assert store.query("SELECT prefix, agency, status FROM ra_cache ORDER BY prefix")[0] == ("10.11473", "JaLC", "ok")


def test_targets_fetches_what_no_harvest_holds(registries: Registries, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    cli_json("harvest", "jalc", "--prefix", "10.11473", "--base-url", registries.url("jalc"), db=db)
    targets = ["10.11473/fcn.2017e.1",  # held by the JaLC harvest: not fetched again
               "10.11230/jsts.17.2_1", "10.1594/pangaea.836178", "10.7554/elife.55167.sa2",
               "10.7554/elife.99999999",  # Crossref prefix, unknown DOI
               "10.99999/nobody"]  # prefix no agency knows
    _add_relations(db, targets)
    result = cli_json("harvest", "targets", *registries.endpoints(), db=db)
    assert result["candidates"] == 5
    assert result["fetched"] == {"jalc": 1, "datacite": 1, "crossref": 1}
    assert result["unknown"] == 2
    with Store(db, read_only=True) as store:
        unknown = store.query("SELECT doi, reason FROM unknown_dois ORDER BY doi")
    assert unknown == [("10.7554/elife.99999999", "not-found"), ("10.99999/nobody", "prefix-unknown")]
    again = cli_json("harvest", "targets", *registries.endpoints(), db=db)
    assert again["candidates"] == 0  # everything is now held or known to be unknown


def test_an_offline_replay_answer_is_unverifiable_not_unknown(tmp_path: Path) -> None:
    """The demo's doi.org replay knows only its world: a real prefix it cannot tell about is
    counted unverifiable, never recorded as unknown to every agency, and not cached."""
    from linkgraph.harvest.agency import AgencyCache, AgencyEndpoints, RecordFetcher, fetch_targets
    from linkgraph.harvest.http import HttpPolicy, Transport
    from linkgraph.replay.rest_doiorg import DoiOrgApp
    from linkgraph.replay.server import ReplayServer

    app = DoiOrgApp({"10.11473": "JaLC"}, offline=True, absent=("10.99990",))
    db = tmp_path / "o.duckdb"
    with ReplayServer(apps={"/doiorg": app}) as server, Store(db) as store, \
            Transport(HttpPolicy(retries=0)) as tr:
        cache = AgencyCache(store, tr, base_url=server.url_for("/doiorg") + "/ra")
        endpoints = AgencyEndpoints(jalc=server.url, crossref=server.url, datacite=server.url)
        with RecordFetcher(HttpPolicy(retries=0), endpoints) as fetcher:
            result = fetch_targets(store, ["10.1016/j.cell.2020.01.001", "10.99990/gone.1"],
                                   cache, fetcher)
        assert (result.unknown, result.unverifiable) == (1, 1)
        assert store.query("SELECT doi, reason FROM unknown_dois") == [
            ("10.99990/gone.1", "prefix-unknown")]
        assert [p for (p,) in store.query("SELECT prefix FROM ra_cache")] == ["10.99990"]
