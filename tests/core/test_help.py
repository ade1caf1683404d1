"""Every command's --help ends with examples that name real options, every option has help,
and one thing has one option name across commands (old spellings stay as hidden aliases)."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from linkgraph.cli import build_app
from linkgraph.cli.examples import EXAMPLES


def _walk(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    out = []
    for name, sub in getattr(cmd, "commands", {}).items():
        here = (*path, name)
        if hasattr(sub, "commands"):
            if sub.invoke_without_command:  # a group that runs on its own (crosswalk, audit)
                out.append((" ".join(here), sub))
            out.extend(_walk(sub, here))
        else:
            out.append((" ".join(here), sub))
    return out


COMMANDS = dict(_walk(get_command(build_app())))


def test_every_command_has_examples_and_every_option_help() -> None:
    assert set(COMMANDS) == set(EXAMPLES), set(COMMANDS) ^ set(EXAMPLES)
    for path, cmd in COMMANDS.items():
        assert "Examples:" in (cmd.epilog or ""), path
        for p in cmd.params:
            if getattr(p, "opts", None) and p.opts[0].startswith("-") and not p.hidden:
                assert p.help, f"{path} {p.opts[0]} has no help"


@pytest.mark.parametrize("path", sorted(EXAMPLES))
def test_examples_use_options_the_command_has(path: str) -> None:
    cmd = COMMANDS[path]
    known = {o for p in cmd.params for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))}
    for line in EXAMPLES[path]:
        words = shlex.split(line.split("#")[0].split("|")[-1])
        words = words[words.index("linkgraph") + 1:]
        assert " ".join(words[: len(path.split())]) == path, line
        for w in words:
            if w.startswith("--"):
                assert w.split("=")[0] in known, f"{path}: example uses unknown {w}"
    helptext = CliRunner().invoke(build_app(), [*path.split(), "--help"]).output
    assert "Examples" in helptext, path


SAME_THING = {  # one name per meaning, across every command
    "--metadata-prefix": "the OAI-PMH metadataPrefix",
    "--client-id": "a DataCite client (repository) id",
    "--provider-id": "a DataCite provider (member) id",
}
OLD = {"harvest oai": {"--prefix": "--metadata-prefix"},
       "sources add": {"--client": "--client-id", "--provider": "--provider-id",
                       "--metadata-format": "--metadata-prefix"}}


def test_one_name_per_meaning_with_old_spellings_hidden() -> None:
    for path, renames in OLD.items():
        cmd = COMMANDS[path]
        by_opt = {o: p for p in cmd.params for o in getattr(p, "opts", ())}
        for old, new in renames.items():
            assert new in by_opt and not by_opt[new].hidden, (path, new)
            assert old in by_opt and by_opt[old].hidden, (path, old)
    helptext = CliRunner().invoke(build_app(), ["harvest", "oai", "--help"]).output
    assert "--metadata-prefix" in helptext
    for path, cmd in COMMANDS.items():
        for p in cmd.params:
            if "--prefix" in getattr(p, "opts", ()) and not p.hidden:
                assert "DOI prefix" in (p.help or "") or "10." in (p.help or ""), \
                    f"{path}: --prefix means a DOI prefix everywhere"


def test_shared_options_have_one_default_everywhere() -> None:
    for opt in ("--retries", "--memory-limit", "--timeout"):
        defaults = {path: p.default for path, cmd in COMMANDS.items() for p in cmd.params
                    if opt in getattr(p, "opts", ()) and not p.hidden}
        assert len(set(defaults.values())) <= 1, (opt, defaults)


def test_help_keeps_bracketed_names() -> None:
    """Rich markup ate "[sources.NAME]": the help read "Append a  table to the config"."""
    for cmd in (["sources", "add", "--help"], ["sources", "remove", "--help"]):
        out = CliRunner().invoke(build_app(), cmd).output
        assert "[sources.NAME]" in out, out
