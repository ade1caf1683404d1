"""Arrow tables for the store are built without pyarrow importing pandas (~50 MB of RSS)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

from linkgraph import arrowbuild
from linkgraph.crosswalks.pipeline import RELATIONS_SCHEMA
from linkgraph.store import RAW_SCHEMA


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
        "df = b.tables()['works'].to_pandas()\n"  # asked for explicitly, pandas still works
        "print(type(df).__name__, len(df))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "DataFrame", "1"]


def test_relations_schema_is_buildable() -> None:
    cols = {f.name: [None] for f in RELATIONS_SCHEMA}
    assert arrowbuild.table(cols, RELATIONS_SCHEMA).num_rows == 1
