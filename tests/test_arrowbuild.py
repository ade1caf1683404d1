"""Arrow columns built by hand equal pyarrow's own conversion, and never pull in pandas."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkgraph import arrowbuild
from linkgraph.crosswalks.pipeline import RELATIONS_SCHEMA, WORKS_SCHEMA
from linkgraph.store import RAW_SCHEMA

STAMP = pa.timestamp("us", tz="UTC")
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
stamps = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(timezone.utc)
)

CASES = [
    (pa.string(), texts),
    (pa.large_string(), texts),
    (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    (pa.bool_(), st.booleans()),
    (STAMP, stamps),
    (pa.list_(pa.string()), st.lists(st.none() | texts, max_size=4)),
    (WORKS_SCHEMA.field("titles").type,
     st.lists(st.none() | st.fixed_dictionaries({"text": texts, "lang": st.none() | texts}), max_size=3)),
    (WORKS_SCHEMA.field("creators").type,
     st.lists(st.fixed_dictionaries(
         {"name": texts, "affiliations": st.none() | st.lists(texts, max_size=2),
          "seq": st.none() | st.integers(0, 1000)}), max_size=3)),
]


@pytest.mark.parametrize("typ,values", CASES, ids=[str(c[0])[:40] for c in CASES])
def test_column_equals_pyarrow_conversion(typ: pa.DataType, values: st.SearchStrategy) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.none() | values, max_size=40))
    def check(items: list) -> None:
        built = arrowbuild.column(items, typ)
        built.validate(full=True)
        assert built.equals(pa.array(items, typ)), (items, built)

    check()


def test_naive_datetimes_are_utc_and_wrong_values_are_type_errors() -> None:
    naive = datetime(2024, 5, 1, 12, 0)
    col = arrowbuild.column([naive], STAMP)
    assert col[0].as_py() == naive.replace(tzinfo=timezone.utc)
    with pytest.raises(TypeError, match="expected str"):
        arrowbuild.column(["ok", 3], pa.string())
    with pytest.raises(TypeError, match="expected datetime"):
        arrowbuild.column(["2024-01-01"], STAMP)
    with pytest.raises(TypeError, match="does not build"):
        arrowbuild.column([1.5], pa.float64())


def test_raw_table_matches_its_schema_in_every_column() -> None:
    from linkgraph.store import RawRecord, raw_table

    t0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
    recs = [
        RawRecord("a", t0, False, "oai_dc", "<x>é</x>", ("s1", "s2")),
        RawRecord("b", None, True, "oai_dc", None, ()),
        RawRecord("a", t0 + timedelta(days=1), False, "oai_dc", "<x>newer</x>", ()),
    ]
    table = raw_table("src", 7, recs)
    assert table.schema == RAW_SCHEMA
    rows = {r["record_id"]: r for r in table.to_pylist()}
    assert rows["a"]["payload"] == "<x>newer</x>" and rows["a"]["sets"] == []
    assert rows["b"]["deleted"] is True and rows["b"]["payload"] is None and rows["b"]["datestamp"] is None
    assert rows["a"]["run_id"] == 7


def test_harvest_and_crosswalk_tables_do_not_import_pandas() -> None:
    """pandas is installed beside the notebooks; importing it costs the harvest ~50 MB."""
    code = (
        "import sys\n"
        "from datetime import datetime, timezone\n"
        "from linkgraph.store import RawRecord, raw_table\n"
        "from linkgraph.crosswalks.pipeline import Batch\n"
        "raw_table('s', 1, [RawRecord('a', datetime.now(timezone.utc), False, 'oai_dc', '<x/>', ('s',))])\n"
        "b = Batch()\n"
        "b.add_record('s', 'a', False, 'oai_dc', '<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\""
        " xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>t</dc:title></oai_dc:dc>', 1)\n"
        "assert b.tables()['works'].num_rows == 1\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_relations_schema_is_buildable() -> None:
    cols = {f.name: [None] for f in RELATIONS_SCHEMA}
    assert arrowbuild.table(cols, RELATIONS_SCHEMA).num_rows == 1
