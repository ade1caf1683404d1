"""The pre-deposit check: what a deposit would leave wrong, before it is deposited.

``linkgraph check FILE... [--db PATH]`` reads deposit files of any supported format (Crossref
deposit XML, DataCite XML/JSON, JaLC XML/JSON, JPCOAR, an OAI-PMH response) with the same
readers a harvest uses, and runs the same audits (``queries/audit_*.sql``) over the deposit -
together with the works of the store that matter to it, when a store is given: the targets of
its links, the works that link to it, the works on its landing pages and under its titles.
Only findings that involve the deposit are reported:

* a link the deposit would leave one-way (either side), with the fragment that states it back;
* a target no agency knows (``unknown_dois`` of the store), a malformed DOI, a self-link;
* a relation type no vocabulary knows;
* a duplicate of a held work (one landing page, the same content, a declared identity);
* a link stated only in text, with the fragment that would state it.

The store is only read (its published snapshot while ``linkgraph run`` writes); the deposit is
audited in an in-memory database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from linkgraph.crosswalks.model import Work
from linkgraph.crosswalks.pipeline import Batch, BatchResult, write_result
from linkgraph.crosswalks.registry import UndetectableFormatError, UnknownFormatError, read_document
from linkgraph.crosswalks.vocab import relation_types
from linkgraph.graph.audit import KINDS, run_audit

from linkgraph.errors import UsageError
from linkgraph.store import Store, open_for_reading

SOURCE = "deposit"
#: audit kinds a check reports: all but unverifiable_reciprocal (every link out of a lone deposit)
REPORTED = tuple(k for kinds in KINDS.values() for k in kinds if k != "unverifiable_reciprocal")
DUPLICATES = KINDS["duplicates"]


@dataclass(slots=True)
class CheckFinding:
    kind: str
    severity: str  # error | warning | info
    file: str | None
    subject: str | None  # the deposited DOI (or record key) the finding is about
    object: str | None
    relation_type: str | None
    message: str
    fix_owner: str | None = None  # deposit: add the fragment to this deposit; held: the other record's owner
    fix_for: str | None = None  # the DOI (or record key) whose metadata takes the fragment
    fix_format: str | None = None
    fix_fragment: str | None = None
    evidence: Any = None


@dataclass(slots=True)
class DepositFile:
    path: str
    format: str | None
    works: int
    problem: str | None = None  # set: the file could not be read at all


@dataclass(slots=True)
class CheckResult:
    files: list[DepositFile]
    findings: list[CheckFinding] = field(default_factory=list)
    held_works: int = 0  # works of the store brought in as context (0: no store)
    store: str | None = None

    @property
    def unreadable(self) -> list[DepositFile]:
        return [f for f in self.files if f.problem is not None]

    @property
    def exit_code(self) -> int:
        """2: a file could not be read; 1: findings; 0: clean."""
        return 2 if self.unreadable else 1 if self.findings else 0

    def to_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        return {"files": [asdict(f) for f in self.files], "store": self.store, "held_works": self.held_works,
                "findings": [asdict(f) for f in self.findings], "counts": counts, "exit_code": self.exit_code}


def read_deposit(path: Path, fmt: str | None = None) -> tuple[DepositFile, list[tuple[str, Work]]]:
    """The works of one deposit file, keyed by a record id unique to the file."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return DepositFile(name, fmt, 0, f"cannot read: {exc.strerror or exc}"), []
    try:
        records = read_document(data, fmt)
    except UndetectableFormatError as exc:
        return DepositFile(name, None, 0, f"not a metadata format linkgraph reads: {exc}"), []
    except UnknownFormatError:
        raise  # a usage error: --format names no reader
    except UsageError as exc:  # an OAI-PMH response that cannot be split
        return DepositFile(name, "oai-pmh", 0, str(exc)), []
    works = [(name if rec.record_id is None else f"{name}:{rec.record_id}", w)
             for rec in records for w in rec.works]
    readable = [(rid, w) for rid, w in works if w.readable]
    shown = ", ".join(sorted({w.source_format for _, w in works})) or None
    if not readable:
        problems = "; ".join(p for _, w in works for p in w.problems) or "no record in the file"
        return DepositFile(name, shown, 0, problems), []
    return DepositFile(name, shown, len(readable)), readable


def check_files(paths: Sequence[Path], *, db: Path | None = None, fmt: str | None = None) -> CheckResult:
    """Read ``paths`` and audit them against the store at ``db`` (none: the deposit alone)."""
    files: list[DepositFile] = []
    batch = Batch()
    file_of: dict[str, str] = {}  # work key -> file
    own: list[CheckFinding] = []
    for path in paths:
        dep, works = read_deposit(path, fmt)
        files.append(dep)
        for seq, (record_id, work) in enumerate(works):
            work.record_id = record_id
            batch.add_work(work, SOURCE, record_id, seq, work.source_format, 0)
            key = batch.works["work_key"][-1]
            file_of[key] = dep.path
            own.extend(_own_problems(work, key, dep.path))
    result = CheckResult(files, store=str(db) if db else None)
    tables = batch.tables()
    if tables["works"].num_rows == 0:
        result.findings = own
        return result
    with Store(":memory:") as mem:
        with mem.transaction() as cur:
            write_result(cur, BatchResult(pa.table({"source": pa.array([], pa.string()),
                                                    "record_id": pa.array([], pa.string())}),
                                          tables, 0, 0, 0))
        if db is not None:
            result.held_works = _bring_held(mem, db)
        run_audit(mem, keep_snapshots=2)
        result.findings = own + _findings(mem, file_of)
    return result


def _own_problems(work: Work, key: str, file: str) -> Iterable[CheckFinding]:
    subject = work.doi or key
    for p in work.problems:
        if p.startswith(("malformed DOI", "trailing")) or p == "no DOI" and work.registration_agency:
            yield CheckFinding("malformed_doi", "error", file, subject, None, None, f"the deposited DOI: {p}")
    for r in work.relations:
        for p in r.problems:
            if p.startswith("unknown relation type"):
                yield CheckFinding("unknown_relation_type", "error", file, subject, r.target or r.target_raw,
                                   r.relation_type, f"{p}; state a DataCite 4.7 relation type")


#: a title's key, as audit_prepare.sql's audit_tkeys makes it (letters and digits, lower case)
TITLE_KEY = "regexp_replace(lower({}), '[^\\p{{L}}\\p{{N}}]+', '', 'g')"

_HELD_SQL = """
CREATE OR REPLACE TEMP TABLE check_rel AS
SELECT * FROM relations
WHERE (subject_doi IN (SELECT doi FROM dep_keys) OR target IN (SELECT doi FROM dep_keys)
       OR subject_doi IN (SELECT doi FROM dep_targets))
  AND subject_doi NOT IN (SELECT doi FROM dep_keys WHERE doi IS NOT NULL);
CREATE OR REPLACE TEMP TABLE check_works AS
SELECT * FROM works
WHERE coalesce(doi, '') NOT IN (SELECT doi FROM dep_keys WHERE doi IS NOT NULL) AND (
      doi IN (SELECT doi FROM dep_targets) OR doi IN (SELECT subject_doi FROM check_rel)
   OR landing_url IN (SELECT url FROM dep_urls)
   OR work_key IN (SELECT work_key FROM (SELECT work_key, unnest(titles).text AS t FROM works)
                   WHERE """ + TITLE_KEY.format("t") + """ IN (SELECT tkey FROM dep_tkeys))
   OR (source, record_id, work_seq) IN (SELECT source, record_id, work_seq FROM identifiers
                                        WHERE scheme = 'cstr' AND value IN (SELECT cstr FROM dep_cstrs)));
"""


def _bring_held(mem: Store, db: Path) -> int:
    """Copy into ``mem`` the store's rows the deposit's audit needs (works it links to or is
    linked from, works on its landing pages or under its titles, CSTR holders)."""
    con = mem.con
    keys = pa.table({"doi": con.sql("SELECT DISTINCT doi FROM works").to_arrow_table().column(0)})
    targets = con.sql("SELECT DISTINCT target AS doi FROM relations WHERE target_scheme = 'doi'"
                          " AND target IS NOT NULL").to_arrow_table()
    urls = con.sql("SELECT DISTINCT landing_url AS url FROM works WHERE landing_url IS NOT NULL").to_arrow_table()
    tkeys = con.sql(
        f"SELECT DISTINCT {TITLE_KEY.format('t.text')} AS tkey"
        " FROM (SELECT unnest(titles) AS t FROM works) WHERE length(tkey) >= 12").to_arrow_table()
    cstrs = con.sql("SELECT DISTINCT target AS cstr FROM relations WHERE target_scheme = 'cstr'"
                        " AND target IS NOT NULL").to_arrow_table()
    copied: dict[str, pa.Table] = {}
    with open_for_reading(db) as held:
        cur = held.con.cursor()
        try:
            for name, table in (("dep_keys", keys), ("dep_targets", targets), ("dep_urls", urls),
                                ("dep_tkeys", tkeys), ("dep_cstrs", cstrs)):
                cur.register(name, table)
            cur.execute(_HELD_SQL)
            copied["relations"] = cur.sql("SELECT * FROM check_rel").to_arrow_table()
            copied["works"] = cur.sql("SELECT * FROM check_works").to_arrow_table()
            copied["identifiers"] = cur.sql(
                "SELECT i.* FROM identifiers i SEMI JOIN check_works w USING (source, record_id, work_seq)").to_arrow_table()
            copied["ra_cache"] = cur.sql("SELECT * FROM ra_cache").to_arrow_table()
            copied["unknown_dois"] = cur.sql("SELECT * FROM unknown_dois").to_arrow_table()
        finally:
            cur.close()
    with mem.transaction() as mcur:
        for name, table in copied.items():
            Store.insert_arrow(mcur, name, table)
    return copied["works"].num_rows


_FINDINGS_SQL = f"""
SELECT kind, severity, subject_key, subject_doi, object_doi, object_raw, relation_type, fix_owner,
       fix_format, fix_fragment, evidence::VARCHAR
FROM findings
WHERE kind IN ({", ".join(f"'{k}'" for k in REPORTED)})
ORDER BY kind, subject_key, object_doi
"""


def _findings(mem: Store, file_of: dict[str, str]) -> list[CheckFinding]:
    deposited = {k[4:]: k for k in file_of if k.startswith("doi:")}
    inverse = {t: inv for t, inv in relation_types().items() if inv}
    out: list[CheckFinding] = []
    for (kind, severity, skey, sdoi, odoi, oraw, rel, owner, ffmt, frag, evidence) in mem.query(_FINDINGS_SQL):
        in_subject = skey in file_of
        in_object = odoi is not None and odoi in deposited
        if not (in_subject or in_object):
            continue  # about held works only: not this deposit's doing
        file = file_of.get(skey) or file_of.get(deposited.get(odoi or "", ""))
        subject = sdoi or skey
        if kind in ("missing_reciprocal", "version_one_way"):
            back = inverse.get(rel or "", "its inverse")
            if in_object:
                message = (f"{subject} states {rel} {odoi}, and this deposit does not state {back} back:"
                           " add the fragment")
            else:
                message = (f"this deposit states {rel} {odoi}; {odoi}'s record does not state {back} back"
                           " (its owner's fix)")
            kind_out = "one_way_link"
        elif kind in DUPLICATES:
            both = in_subject and (in_object or odoi is None)
            held = odoi if in_subject else subject
            message = (f"{subject} and {odoi} look like one work under two DOIs ({kind.replace('_', ' ')})"
                       + ("" if both else f"; {held} is already registered"))
            kind_out = "duplicate_in_deposit" if both else "duplicate_of_held"
        elif kind == "text_only_link":
            message = f"the text of {subject} names {odoi or oraw}, but no relation states it: add the fragment"
            kind_out = kind
        elif kind == "unknown_doi":
            message = f"{subject} links to {odoi}, a DOI no registration agency knows"
            kind_out = "unknown_target"
        elif kind == "malformed_target":
            message = f"{subject} links to {oraw!r}, which is not a DOI"
            kind_out = "malformed_doi"
        else:
            message = f"{kind.replace('_', ' ')}: {subject} {rel or ''} {odoi or oraw or ''}".strip()
            kind_out = kind
        fix_owner = fix_for = None
        if owner is not None:
            owner_key = skey if owner == "subject" else f"doi:{odoi}"
            fix_owner = "deposit" if owner_key in file_of else "held"
            fix_for = subject if owner == "subject" else odoi
        out.append(CheckFinding(kind_out, severity, file, subject, odoi or oraw, rel, message, fix_owner,
                                fix_for, ffmt, frag, json.loads(evidence) if evidence else None))
    out.sort(key=lambda f: (f.file or "", f.kind, f.subject or "", f.object or ""))
    return out

