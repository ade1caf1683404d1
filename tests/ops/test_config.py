"""The config file as an operator edits it: `sources add|list|remove`, `config check`, and
broken configs that must each get a clear error naming the line and the key (exit status 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from linkgraph.config import ConfigError, load_config, parse_config, parse_duration


from .ops_helpers import linkgraph

GOOD = """\
# nightly harvests
[linkgraph]
contact = "ops@example.org"   # sent in the User-Agent

[sources.kyoto]
kind = "oai"
base_url = "https://repo.example.ac.jp/oai"
metadata_format = "jpcoar_2.0"
every = "1d"

[sources.jst-crossref]
kind = "crossref"
prefix = "10.1234"
mailto = "ops@example.org"
token_env = "CROSSREF_PLUS_TOKEN"
"""


def test_sources_add_list_remove_keep_the_operators_comments(tmp_path: Path) -> None:
    cfg = tmp_path / "linkgraph.toml"
    cfg.write_text(GOOD, encoding="utf-8")
    env = {"CROSSREF_PLUS_TOKEN": "tok-abcdef-123456"}
    added = linkgraph("sources", "add", "dc", "--kind", "datacite", "--client", "jalc.jstage", "--every", "6h",
                      "--config", str(cfg), env=env)
    assert added.returncode == 0, added.stderr
    listed = linkgraph("sources", "list", "--config", str(cfg), "--json", env=env)
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {"kyoto", "jst-crossref", "dc"}
    assert rows["dc"]["every"] == "6h" and rows["dc"]["base_url"] == "https://api.datacite.org"
    assert "tok-abcdef-123456" not in listed.stdout + listed.stderr
    removed = linkgraph("sources", "remove", "kyoto", "--config", str(cfg), env=env)
    assert removed.returncode == 0, removed.stderr
    text = cfg.read_text(encoding="utf-8")
    assert "# nightly harvests" in text and "# sent in the User-Agent" in text
    assert "kyoto" not in text and "[sources.dc]" in text
    assert set(load_config(cfg, env=env).sources) == {"jst-crossref", "dc"}


def test_sources_add_refuses_what_would_break_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "linkgraph.toml"
    cfg.write_text(GOOD, encoding="utf-8")
    before = cfg.read_bytes()
    env = {"CROSSREF_PLUS_TOKEN": "x" * 20}
    dup = linkgraph("sources", "add", "kyoto", "--kind", "jalc", "--prefix", "10.11111", "--config", str(cfg), env=env)
    assert dup.returncode == 2 and "already" in dup.stderr
    bad = linkgraph("sources", "add", "j", "--kind", "jalc", "--prefix", "11111", "--config", str(cfg), env=env)
    assert bad.returncode == 2 and "sources.j.prefix" in bad.stderr and "not a DOI prefix" in bad.stderr
    assert cfg.read_bytes() == before  # nothing written


def test_config_check_accepts_the_example(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "linkgraph.toml"
    result = linkgraph("config", "check", "--config", str(example), "--json",
                       env={"CROSSREF_PLUS_TOKEN": "t" * 16, "NEO4J_PASSWORD": "p" * 12})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["valid"] is True


BROKEN = [
    # (file text, line, text the message must contain)
    ('[sources.a]\nkind = "oai\n', 2, "not valid TOML"),
    ("[sources.a]\nkind = 'oai'\nbase_url = 'http://x/oai'\nmetadata_format = 'oai_dc'\nevrey = '1d'\n",
     5, "sources.a.evrey: unknown key"),
    ("[sources.a]\nkind = 'oaii'\n", 2, "sources.a.kind: unknown kind 'oaii'"),
    ("[sources.a]\nbase_url = 'http://x'\n", 1, "sources.a: missing key 'kind'"),
    ("[sources.a]\nkind = 'oai'\nbase_url = 'http://x/oai'\n", 1, "missing metadata_format"),
    ("[sources.a]\nkind = 'oai'\nbase_url = 'ftp://x/oai'\nmetadata_format = 'oai_dc'\n", 3, "not an http(s) URL"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\nevery = 'daily'\n", 4, "sources.a.every: not a duration"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\nrate = 'fast'\n", 4, "sources.a.rate: expected integer or number"),
    ("[sources.a]\nkind = 'crossref'\nprefix = '10.1111'\nmember = 3\n", 4, "give only one of prefix or member"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\nconcurrency = 0\n", 4, "must be between 1 and 1000"),
    ("[sources.'bad name']\nkind = 'jalc'\nprefix = '10.1111'\n", 1, "source names are"),
    ("[linkgraph]\nlock_wait = -1\n", 2, "linkgraph.lock_wait: must be a number from 0 to 604800 seconds"),
    # values that are numbers but fail every run or wait forever
    ("[linkgraph]\nlock_wait = nan\n", 2, "linkgraph.lock_wait: must be a number from 0"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\ntimeout = nan\n", 4, "sources.a.timeout: must be a number"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\ntimeout = inf\n", 4, "sources.a.timeout: must be a number"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\ntimeout = 1e300\n", 4, "from 0.1 to 3600 seconds"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\nrate = 1e-300\n", 4, "sources.a.rate: must be a number"),
    ("[sources.a]\nkind = 'jalc'\nprefix = '10.1111'\nevery = '99999999999d'\n", 4, "sources.a.every: duration too long"),
    ("[sources.a]\nkind = 'oai'\nbase_url = 'http://u:s3cr3t-pass@x:99999/oai'\nmetadata_format = 'oai_dc'\n", 3,
     "sources.a.base_url: not a valid URL"),
    ("[linkgraph]\nmemory_limit = 'lots'\n", 2, "linkgraph.memory_limit: not a memory size"),
    ("[linkgraph]\nmemory_limit = '1KB'\n", 2, "linkgraph.memory_limit: not a memory size"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", None, "not valid TOML: nested too deeply"),
    ("[retention]\nkeep_runs = 0\n", 2, "retention.keep_runs: must be at least 1"),
    ("[schedule]\nat = '03:00'\n", 1, "schedule: unknown section"),
    ("sources = 3\n", 1, "sources: expected a table"),
    ("[sources.a]\nkind = 'crossref'\nprefix = '10.1111'\ntoken_env = 'UNSET_VAR_FOR_TEST'\n", 4,
     "environment variable UNSET_VAR_FOR_TEST is not set"),
    ("[neo4j]\npassword = 's3cr3t-pass'\npassword_env = 'NEO4J_PASSWORD'\n", 3, "not both"),
]


@pytest.mark.parametrize(("text", "line", "message"), BROKEN, ids=[m for _, _, m in BROKEN])
def test_broken_config_gets_line_key_and_exit_2(tmp_path: Path, text: str, line: int, message: str) -> None:
    cfg = tmp_path / "broken.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(Exception) as err:
        parse_config(text, cfg, env={})
    where = f"broken.toml:{line}:" if line is not None else "broken.toml:"
    assert message in str(err.value) and where in str(err.value)
    assert isinstance(err.value, ConfigError)  # never a RecursionError/OverflowError traceback
    assert "s3cr3t-pass" not in str(err.value)


@pytest.mark.parametrize("command", [["config", "check"], ["run"], ["sources", "list"]])
def test_cli_exits_2_on_a_broken_config(tmp_path: Path, command: list[str]) -> None:
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[sources.a]\nkind = 'oai'\npassword = 'hunter2-secret'\n", encoding="utf-8")
    result = linkgraph(*command, "--config", str(cfg))
    assert result.returncode == 2
    assert "broken.toml:3: sources.a.password: unknown key" in result.stderr
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_missing_wrongly_encoded_or_absent_config(tmp_path: Path) -> None:
    missing = linkgraph("config", "check", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    latin = tmp_path / "latin1.toml"
    latin.write_bytes('[sources.a]\nkind = "oai"\nnote = "Universit\u00e9"\n'.encode("latin-1"))
    bad = linkgraph("config", "check", "--config", str(latin))
    assert bad.returncode == 2 and "latin1.toml:3" in bad.stderr and "not UTF-8" in bad.stderr
    # the default location follows $XDG_CONFIG_HOME
    xdg = tmp_path / "xdg"
    (xdg / "linkgraph").mkdir(parents=True)
    (xdg / "linkgraph" / "linkgraph.toml").write_text("[sources.j]\nkind = 'jalc'\nprefix = '10.11111'\n")
    env = {"XDG_CONFIG_HOME": str(xdg), "LINKGRAPH_CONFIG": ""}
    found = linkgraph("config", "check", env=env)
    assert found.returncode == 0 and "1 source(s): j" in found.stderr


def test_durations() -> None:
    assert parse_duration("1d").total_seconds() == 86400
    assert parse_duration("1d12h").total_seconds() == 129600
    assert parse_duration("30m").total_seconds() == 1800
    for bad in ("", "1x", "0h", "d1", "1 day"):
        with pytest.raises(ValueError):
            parse_duration(bad)
