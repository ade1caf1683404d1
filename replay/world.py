"""A seeded, consistent multi-registry world with planted defects of known kinds and counts.

The world holds JaLC journal articles, J-STAGE Data datasets (JaLC DOIs, served by figshare as
``oai_datacite``), Crossref articles, DataCite datasets and repository author manuscripts
(JPCOAR 2.0). Its background is *consistent*: every link is reciprocated, every target is held,
every title is unique. On top of it :func:`generate` plants defects (``PLANTED``) and
legitimate look-alikes that must not be flagged (versions, parts, translations, same titles of
different works), and records the findings an audit should produce (:class:`Planted`).
``replay/world_formats.py`` writes the world in each source's own format and
``replay/world_serve.py`` serves, harvests, crosswalks and audits it.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Prefixes: which agency doi.org names for each (the doi.org replay app answers from this).
JALC_ARTICLES = "10.11501"
JSTAGE_DATA = "10.57400"
REPOSITORY = "10.24517"  # JaLC DOIs registered by the repository for some manuscripts
CROSSREF = "10.5555"
DATACITE = "10.80001"
MEDRA = "10.3280"  # an agency linkgraph cannot fetch from: links there stay unverifiable
UNKNOWN_PREFIX = "10.99990"  # no agency knows it
AGENCIES = {JALC_ARTICLES: "JaLC", JSTAGE_DATA: "JaLC", REPOSITORY: "JaLC", CROSSREF: "Crossref",
            DATACITE: "DataCite", MEDRA: "mEDRA"}
REPO_SOURCE = "world-repository"  # the source name the repository is harvested under
REPO_OAI_PREFIX = "oai:repo.world.linkgraph:"
FIGSHARE_OAI_PREFIX = "oai:figshare.com:article/"

_FAMILIES = [("Tanaka", "田中"), ("Suzuki", "鈴木"), ("Sato", "佐藤"), ("Takahashi", "高橋"),
             ("Watanabe", "渡辺"), ("Ito", "伊藤"), ("Yamamoto", "山本"), ("Nakamura", "中村"),
             ("Kobayashi", "小林"), ("Kato", "加藤"), ("Yoshida", "吉田"), ("Yamada", "山田"),
             ("Sasaki", "佐々木"), ("Matsumoto", "松本"), ("Inoue", "井上"), ("Kimura", "木村"),
             ("Hayashi", "林"), ("Shimizu", "清水"), ("Mori", "森"), ("Ikeda", "池田")]
_GIVEN = ["Taro", "Hanako", "Kenji", "Yuki", "Akira", "Naoko", "Hiroshi", "Emi", "Takeshi", "Aiko"]
_TOPICS = ["soil microbiome", "coastal erosion", "rice yield", "seismic attenuation", "urban heat",
           "bamboo fibre", "glacier retreat", "tea catechins", "typhoon tracks", "forest carbon",
           "river sediment", "volcanic ash", "sake yeast", "coral bleaching", "snow cover"]
_PLACES = ["Hokkaido", "Kyushu", "Shikoku", "Tohoku", "Kanto", "Kansai", "Chubu", "Okinawa",
           "Sanin", "Hokuriku"]
_METHODS = ["long-term monitoring of", "a field survey of", "modelling", "isotopic analysis of",
            "remote sensing of", "a statistical study of", "experimental evidence on"]
# Japanese for each English part, so the two titles of one work say the same thing
_TOPICS_JA = dict(zip(_TOPICS, [
    "土壌微生物叢", "海岸侵食", "水稲収量", "地震波減衰", "都市のヒートアイランド", "竹繊維", "氷河後退",
    "茶カテキン", "台風経路", "森林炭素", "河川土砂", "火山灰", "清酒酵母", "サンゴ白化", "積雪被覆"], strict=True))
_PLACES_JA = dict(zip(_PLACES, ["北海道", "九州", "四国", "東北", "関東", "関西", "中部", "沖縄", "山陰",
                                "北陸"], strict=True))
_METHODS_JA = dict(zip(_METHODS, ["の長期モニタリング", "の野外調査", "のモデル化", "の同位体分析",
                                  "のリモートセンシング", "の統計的研究", "に関する実験的証拠"], strict=True))
_KINDS_JA = {"evidence": "", "results": "：結果", "a case": "：事例"}
_JOURNALS = ["Journal of Japanese Field Science", "Japanese Journal of Environmental Studies",
             "Bulletin of the Society of Earth Observation"]


@dataclass(slots=True)
class Person:
    family: str
    given: str
    family_ja: str


@dataclass(slots=True)
class WorldWork:
    """One record in one source. ``registry``: jalc | jstage-data | crossref | datacite | repository."""

    registry: str
    kind: str  # article | dataset | manuscript
    doi: str | None
    record_id: str  # DOI (REST sources) or OAI identifier
    title: str
    title_ja: str | None
    creators: list[Person]
    year: int
    container: str | None
    url: str | None
    updated: datetime
    version: str | None = None  # COAR label for repository items
    relations: list[tuple[str, str]] = field(default_factory=list)  # (DataCite type, target as written)
    texts: list[str] = field(default_factory=list)  # descriptions / abstracts / data statements

    @property
    def key(self) -> str:
        """``works.work_key`` the crosswalk will give this record."""
        return f"doi:{self.doi}" if self.doi else f"rec:{REPO_SOURCE}:{self.record_id}"

    def link(self, rel: str, target: str) -> None:
        self.relations.append((rel, target))


@dataclass(frozen=True, slots=True)
class Planted:
    """A finding the audits must report: kind, subject work_key, object (DOI or raw text;
    None: any), relation type (None: not part of the match)."""

    kind: str
    subject_key: str
    obj: str | None
    relation_type: str | None = None


#: planted defects per unit of scale, by finding kind (same_content: 8 clear + 1 hard case).
PLANTED: dict[str, int] = {
    "missing_reciprocal": 6, "version_one_way": 3, "unverifiable_reciprocal": 3,
    "version_missing": 4, "version_cycle": 1, "duplicate_url": 4, "identical_pair": 2,
    "same_content": 9, "unknown_doi": 3, "malformed_target": 2, "self_link": 2,
    "supplement_not_publication": 2, "text_only_link": 4,
}
#: legitimate look-alike pairs per unit of scale (must NOT be flagged as same content).
LOOKALIKES: dict[str, int] = {"version": 4, "part": 3, "translation": 3, "dataset_version": 3,
                              "same_title_other_work": 4, "series_same_title": 2}


@dataclass(slots=True)
class World:
    seed: int
    scale: int
    works: list[WorldWork]
    truth: list[Planted]
    lookalikes: list[tuple[str, str, str]]  # (kind, doi a, doi b): pairs that are not duplicates

    def by_registry(self, registry: str) -> list[WorldWork]:
        return [w for w in self.works if w.registry == registry]

    def truth_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for p in self.truth:
            counts[p.kind] = counts.get(p.kind, 0) + 1
        return {"seed": self.seed, "scale": self.scale, "works": len(self.works), "counts": counts,
                "findings": [asdict(p) for p in self.truth],
                "lookalikes": [{"kind": k, "a": a, "b": b} for k, a, b in self.lookalikes]}

    def write_truth(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.truth_json(), fh, ensure_ascii=False, indent=1)


class _Builder:
    def __init__(self, seed: int, scale: int):
        self.rng = random.Random(seed)
        self.scale = scale
        self.works: list[WorldWork] = []
        self.truth: list[Planted] = []
        self.lookalikes: list[tuple[str, str, str]] = []
        self.titles: set[str] = set()
        self.serial = 0
        self.start = datetime(2024, 1, 1, tzinfo=UTC)

    # -- building blocks -------------------------------------------------------------
    def _n(self) -> int:
        self.serial += 1
        return self.serial

    def people(self, k: int | None = None) -> list[Person]:
        k = k or self.rng.randint(1, 4)
        fams = self.rng.sample(_FAMILIES, k)
        return [Person(f, self.rng.choice(_GIVEN), ja) for f, ja in fams]

    def title(self) -> tuple[str, str]:
        """An English title and its Japanese translation (the same method, topic, place, year)."""
        while True:
            method, topic, place = (self.rng.choice(_METHODS), self.rng.choice(_TOPICS),
                                    self.rng.choice(_PLACES))
            kind, year = self.rng.choice(list(_KINDS_JA)), self.rng.randint(1990, 2023)
            t = f"{method.capitalize()} {topic} in {place}: {kind} from {year}"
            if t not in self.titles:
                self.titles.add(t)
                # draws kept from the old random Japanese title (3 of 13 words), so a seed gives
                # the same world (DOIs, defects) as before; their values are not used
                self.rng.sample(range(13), 3)
                self._n()
                ja = f"{_PLACES_JA[place]}における{_TOPICS_JA[topic]}{_METHODS_JA[method]}" \
                     f"（{year}年）{_KINDS_JA[kind]}"
                return t, ja

    def when(self) -> datetime:
        return self.start + timedelta(seconds=self.rng.randrange(300 * 86400))

    def add(self, registry: str, *, title: str | None = None, creators: list[Person] | None = None,
            year: int | None = None, container: str | None = None, url: str | None = None,
            version: str | None = None, doi: str | None = None, with_doi: bool = True) -> WorldWork:
        n = self._n()
        t, ja = self.title() if title is None else (title, None)
        kind = {"jalc": "article", "crossref": "article", "jstage-data": "dataset",
                "datacite": "dataset", "repository": "manuscript"}[registry]
        if doi is None and with_doi:
            doi = {"jalc": f"{JALC_ARTICLES}/jjfs.{n}", "crossref": f"{CROSSREF}/art.{n}",
                   "jstage-data": f"{JSTAGE_DATA}/data.jstage.{n}.v1", "datacite": f"{DATACITE}/ds-{n}",
                   "repository": f"{REPOSITORY}/repo.{n}"}[registry]
        record_id = doi or ""
        if registry == "jstage-data":
            record_id = f"{FIGSHARE_OAI_PREFIX}{n}"
        elif registry == "repository":
            record_id = f"{REPO_OAI_PREFIX}{n}"
        if url is None:
            url = {"jalc": f"https://www.jstage.jst.go.jp/article/jjfs/{n}/_article",
                   "crossref": f"https://publisher.example.org/articles/{n}",
                   "jstage-data": f"https://jstagedata.jst.go.jp/articles/dataset/{n}",
                   "datacite": f"https://data.example.org/records/{n}",
                   "repository": f"https://repository.example.ac.jp/records/{n}"}[registry]
        if container is None and kind == "article":
            container = self.rng.choice(_JOURNALS) if registry == "jalc" else "Int. J. Field Sci."
        work = WorldWork(registry, kind, doi, record_id, t, ja if registry in ("jalc", "repository") else None,
                         creators or self.people(), year or self.rng.randint(2015, 2023), container, url,
                         self.when(), version)
        self.works.append(work)
        return work

    def pair(self, a: WorldWork, rel: str, b: WorldWork, inverse: str | None) -> None:
        assert b.doi is not None
        a.link(rel, b.doi)
        if inverse is not None:
            assert a.doi is not None
            b.link(inverse, a.doi)

    def plant(self, kind: str, subject: WorldWork | str, obj: str | None, rel: str | None = None) -> None:
        key = subject if isinstance(subject, str) else subject.key
        self.truth.append(Planted(kind, key, obj, rel))

    def times(self, kind: str, table: dict[str, int] = PLANTED) -> range:
        return range(table[kind] * self.scale)


def _background(b: _Builder, n_articles: int) -> tuple[list[WorldWork], list[WorldWork]]:
    jalc = [b.add("jalc") for _ in range(n_articles)]
    cr = [b.add("crossref") for _ in range(n_articles)]
    for k, art in enumerate(jalc[: n_articles // 2]):  # J-STAGE Data supplements of JaLC articles
        ds = b.add("jstage-data", title=f"Supplementary data for: {art.title}", creators=art.creators[:2],
                   year=art.year)
        b.pair(ds, "IsSupplementTo", art, "IsSupplementedBy")
        if k % 3 == 0:  # the text says it too: linked both ways, so not "stated only in text"
            ds.texts.append(f"Supplementary data for the article https://doi.org/{art.doi}.")
            art.texts.append(f"本論文のデータは https://doi.org/{ds.doi} で公開している。")
    for art in cr[: n_articles // 2]:  # DataCite datasets of Crossref articles
        ds = b.add("datacite", title=f"Dataset: {art.title}", creators=art.creators, year=art.year)
        b.pair(ds, "IsSupplementTo", art, "IsSupplementedBy")
    for i in range(n_articles // 2):  # Crossref articles cite JaLC articles
        b.pair(cr[-1 - i], "References", jalc[-1 - i], "IsReferencedBy")
    return jalc, cr


def _lookalikes(b: _Builder, jalc: list[WorldWork], cr: list[WorldWork]) -> None:
    for i in b.times("version", LOOKALIKES):  # author manuscripts, linked (some with a DOI)
        vor = cr[i] if i % 2 else jalc[i]
        am = b.add("repository", title=vor.title, creators=vor.creators, year=vor.year, version="AM",
                   with_doi=i % 2 == 0)
        b.pair(am, "IsVersionOf", vor, "HasVersion" if am.doi else None)
    for _ in b.times("part", LOOKALIKES):  # a J-STAGE Data item with one DOI per file
        parent = b.add("jstage-data")
        files = [b.add("jstage-data", title=parent.title, creators=parent.creators, year=parent.year)
                 for _ in range(3)]
        for f in files:
            b.pair(f, "IsPartOf", parent, "HasPart")
        b.lookalikes.append(("part", files[0].doi or "", files[1].doi or ""))
    for i in b.times("translation", LOOKALIKES):
        orig = jalc[(4 * b.scale + 2 * i) % len(jalc)]  # not one the manuscripts above use
        tr = b.add("crossref", title=orig.title, creators=orig.creators, year=orig.year)
        b.pair(orig, "HasTranslation", tr, "IsTranslationOf")
        b.lookalikes.append(("translation", orig.doi or "", tr.doi or ""))
    for _ in b.times("dataset_version", LOOKALIKES):
        v1 = b.add("datacite")
        v2 = b.add("datacite", title=v1.title, creators=v1.creators, year=v1.year + 1)
        b.pair(v2, "IsNewVersionOf", v1, "IsPreviousVersionOf")
        b.lookalikes.append(("dataset_version", v1.doi or "", v2.doi or ""))
    for _ in b.times("same_title_other_work", LOOKALIKES):
        t, _ = b.title()
        a = b.add("crossref", title=t)
        other = b.people()
        while {p.family for p in other} & {p.family for p in a.creators}:
            other = b.people()
        c = b.add("crossref", title=t, creators=other, year=a.year)
        b.lookalikes.append(("same_title_other_work", a.doi or "", c.doi or ""))
    for _ in b.times("series_same_title", LOOKALIKES):
        t = f"Annual report of the {b.rng.choice(_PLACES)} field station no {b._n()}"
        a = b.add("jalc", title=t, container=_JOURNALS[0])
        c = b.add("jalc", title=t, creators=a.creators, year=a.year + 3, container=_JOURNALS[0])
        b.lookalikes.append(("series_same_title", a.doi or "", c.doi or ""))
    for am in b.works:
        if am.registry == "repository" and am.version == "AM":
            vor_doi = am.relations[0][1]
            if am.doi:
                b.lookalikes.append(("version", min(am.doi, vor_doi), max(am.doi, vor_doi)))


def _defects(b: _Builder) -> None:
    for i in b.times("missing_reciprocal"):
        which = i % 3
        if which == 0:  # J-STAGE Data dataset -> JaLC article that does not answer
            art, ds = b.add("jalc"), b.add("jstage-data")
            ds.link("IsSupplementTo", art.doi or "")
            b.plant("missing_reciprocal", ds, art.doi, "IsSupplementTo")
        elif which == 1:  # DataCite dataset -> Crossref article
            art, ds = b.add("crossref"), b.add("datacite")
            ds.link("IsSupplementTo", art.doi or "")
            b.plant("missing_reciprocal", ds, art.doi, "IsSupplementTo")
        else:  # JaLC article -> DataCite dataset that does not answer
            art, ds = b.add("jalc"), b.add("datacite")
            art.link("IsSupplementedBy", ds.doi or "")
            b.plant("missing_reciprocal", art, ds.doi, "IsSupplementedBy")
    for i in b.times("version_one_way"):
        if i % 3 == 2:
            v1 = b.add("datacite")
            v2 = b.add("datacite", title=v1.title, creators=v1.creators, year=v1.year + 1)
            v2.link("IsNewVersionOf", v1.doi or "")
            b.plant("version_one_way", v2, v1.doi, "IsNewVersionOf")
        else:
            vor = b.add("crossref")
            am = b.add("repository", title=vor.title, creators=vor.creators, year=vor.year, version="AM")
            am.link("IsVersionOf", vor.doi or "")
            b.plant("version_one_way", am, vor.doi, "IsVersionOf")
    for _ in b.times("unverifiable_reciprocal"):
        art = b.add("crossref")
        target = f"{MEDRA}/medra.{b._n()}"
        art.link("References", target)
        b.plant("unverifiable_reciprocal", art, target, "References")
    for _ in b.times("version_missing"):
        vor = b.add(b.rng.choice(["jalc", "crossref"]))
        am = b.add("repository", title=vor.title, creators=vor.creators, year=vor.year, version="AM",
                   with_doi=False)
        b.plant("version_missing", am, vor.doi)
    for _ in b.times("version_cycle"):
        t, _ = b.title()
        ring = [b.add("datacite", title=t) for _ in range(3)]
        for k in range(3):
            nxt = ring[(k + 1) % 3]
            b.pair(ring[k], "IsNewVersionOf", nxt, "IsPreviousVersionOf")
        b.plant("version_cycle", f"doi:{min(w.doi or '' for w in ring)}", None)
    for g in range(b.scale * PLANTED["duplicate_url"] // 2):  # groups of three DOIs on one URL
        url = f"{'http' if g % 2 else 'https'}://www.jstage.jst.go.jp/browse/jjfs/{b._n()}/_contents"
        group = [b.add("jalc", url=url if k == 0 else url.replace("http://", "https://")) for k in range(3)]
        first = min(w.doi or "" for w in group)
        for w in group:
            if w.doi != first:
                b.plant("duplicate_url", f"doi:{first}", w.doi)
    for _ in b.times("identical_pair"):
        a = b.add("datacite")
        c = b.add("datacite", title=a.title, creators=a.creators, year=a.year)
        b.pair(a, "IsIdenticalTo", c, "IsIdenticalTo")
        b.plant("identical_pair", f"doi:{min(a.doi or '', c.doi or '')}", max(a.doi or "", c.doi or ""))
    _same_content(b)
    for i in b.times("unknown_doi"):
        art = b.add("crossref" if i % 2 else "jalc")
        target = f"{UNKNOWN_PREFIX}/gone.{b._n()}" if i % 3 != 2 else f"{JSTAGE_DATA}/data.jstage.{b._n()}.v9"
        art.link("IsSupplementedBy", target)
        b.plant("unknown_doi", art, target)
    for i in b.times("malformed_target"):
        ds = b.add("datacite")
        raw = f"{JALC_ARTICLES}/jjfs {b._n()}" if i % 2 else f"11501/jjfs.{b._n()}"
        ds.link("IsSupplementTo", raw)
        b.plant("malformed_target", ds, raw)
    for i in b.times("self_link"):
        w = b.add("datacite" if i % 2 else "jalc")
        w.link("IsVersionOf" if i % 2 else "References", w.doi or "")
        b.plant("self_link", w, w.doi)
    for _ in b.times("supplement_not_publication"):
        a, c = b.add("datacite"), b.add("datacite")
        b.pair(a, "IsSupplementTo", c, "IsSupplementedBy")
        b.plant("supplement_not_publication", a, c.doi)


def _text_only(b: _Builder) -> None:
    """Links that only a description or data availability statement carries, in each form the
    text miner reads (English and Japanese, full-width, doi:, a landing page URL)."""
    for i in b.times("text_only_link"):
        which = i % 4
        if which == 0:  # a J-STAGE Data dataset's description names its JaLC article
            art, ds = b.add("jalc"), b.add("jstage-data")
            ds.texts.append(f"This dataset supports the article published at https://doi.org/{art.doi}. "
                            "Files are CSV.")
            b.plant("text_only_link", ds, art.doi, "IsSupplementTo")
        elif which == 1:  # a JaLC article's Japanese data statement, full-width
            art, ds = b.add("jalc"), b.add("datacite")
            wide = f"https://doi.org/{ds.doi}".translate(_FULL_WIDTH)
            art.texts.append(f"本研究で用いたデータは{wide}で公開している。")
            b.plant("text_only_link", art, ds.doi, "IsSupplementedBy")
        elif which == 2:  # a Crossref abstract: "doi:" and a closing bracket
            art, ds = b.add("crossref"), b.add("datacite")
            art.texts.append(f"<jats:p>We mapped soils at 40 sites (data: doi:{(ds.doi or '').upper()}).</jats:p>")
            b.plant("text_only_link", art, ds.doi, "IsSupplementedBy")
        else:  # a Crossref abstract names the J-STAGE Data landing page, not the DOI
            art, ds = b.add("crossref"), b.add("jstage-data")
            art.texts.append(f"<jats:p>Data availability: the data are in J-STAGE Data, {ds.url}.</jats:p>")
            b.plant("text_only_link", art, ds.doi, "IsSupplementedBy")


_FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # ASCII -> full-width forms


def _same_content(b: _Builder) -> None:
    n = b.times("same_content")
    for i in n:
        hard = i % 9 == 8
        if i % 2 == 0 or hard:  # one article, a JaLC DOI and a Crossref DOI
            a = b.add("jalc", creators=b.people(3) if hard else None)
            creators = [Person(p.family, p.given, p.family_ja) for p in a.creators]
            if hard:  # two of three names romanised differently (Ohno/Ono): scores below threshold
                creators = creators[:1] + [Person(p.family + "h", p.given, p.family_ja) for p in creators[1:]]
            year = a.year + (1 if i % 4 == 2 else 0)
            title = a.title.upper() if i % 3 == 0 else a.title.replace(":", " -")
            c = b.add("crossref", title=title, creators=creators, year=year)
        else:  # one dataset, in DataCite and in J-STAGE Data
            a = b.add("datacite")
            c = b.add("jstage-data", title=a.title, creators=a.creators, year=a.year)
        lo, hi = sorted([a.doi or "", c.doi or ""])
        b.plant("same_content", f"doi:{lo}", hi)


def generate(seed: int = 0, scale: int = 1, background: int = 24) -> World:
    """A world of about ``background * 5 * scale`` records plus the planted defects."""
    b = _Builder(seed, scale)
    jalc, cr = _background(b, background * scale)
    _lookalikes(b, jalc, cr)
    _defects(b)
    _text_only(b)
    return World(seed, scale, b.works, b.truth, b.lookalikes)
