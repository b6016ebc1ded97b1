"""dagml's entry point imports only the subcommand it runs; help and errors still list every one."""

from __future__ import annotations

import argparse

import pytest

from dagml.cli import main as cli


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_each_subcommand_is_added_by_the_module_command_modules_names():
    full = _subcommands(cli.build_parser())
    assert set(full) == set(cli.COMMAND_MODULES)
    assert set(cli.COMMAND_MODULES.values()) == set(cli.COMMANDS)
    for command, module in cli.COMMAND_MODULES.items():
        alone = _subcommands(cli.build_parser([command, "--help"]))
        assert command in alone, module
        assert {n for n, m in cli.COMMAND_MODULES.items() if m == module} == set(alone)


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["--version"], ()),
        (["--vers"], ()),
        (["--version", "compile"], ()),
        (["compile", "--version"], ("dagml.cli.compile",)),
        (["status", "my-pipe"], ("dagml.cli.deploy",)),
        (["runs", "list"], ("dagml.cli.run",)),
        (["--", "validate", "x.py"], ("dagml.cli.validate",)),
        ([], cli.COMMANDS),
        (["--help"], cli.COMMANDS),
        (["-h", "--version"], cli.COMMANDS),
        (["compil"], cli.COMMANDS),
    ],
)
def test_the_modules_a_command_line_needs(argv, modules):
    assert cli._modules_for(argv) == modules


def test_help_and_an_unknown_command_still_list_every_subcommand(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in cli.COMMAND_MODULES)
    assert cli.main(["compil"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "invalid choice: 'compil'" in err and all(repr(c) in err for c in cli.COMMAND_MODULES)


def test_version_prints_what_argparse_printed(capsys):
    from dagml import __version__

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"dagml {__version__}\n"


def _collecting_during(monkeypatch, module: str, function: str, argv: list[str]) -> bool:
    """Whether the cycle collector was on while ``dagml ARGV`` ran its subcommand's function."""
    import gc
    import importlib

    seen = []
    monkeypatch.setattr(importlib.import_module(module), function, lambda args: seen.append(gc.isenabled()) or 0)
    assert cli.main(argv) == 0
    assert gc.isenabled()  # restored for whatever the caller does next
    return seen == [True]


def test_a_one_shot_command_runs_without_the_cycle_collector_and_skips_the_final_sweep(monkeypatch):
    assert not _collecting_during(monkeypatch, "dagml.cli.validate", "run", ["validate", "x.py"])
    assert cli._exit_unswept


@pytest.mark.parametrize(
    ("module", "function", "argv"),
    [("dagml.cli.run", "run", ["run", "x.py"]), ("dagml.cli.models", "run_list", ["models", "list"])],
)
def test_a_command_that_runs_steps_or_waits_collects_as_usual(monkeypatch, module, function, argv):
    assert _collecting_during(monkeypatch, module, function, argv)
    assert not cli._exit_unswept


@pytest.mark.parametrize(("argv", "frozen"), [(["validate", "x.py"], True), (["models", "list"], False)])
def test_entry_leaves_the_objects_of_a_one_shot_command_to_the_operating_system(monkeypatch, argv, frozen):
    import gc
    import sys

    calls = []
    monkeypatch.setattr(sys, "argv", ["dagml", *argv])
    monkeypatch.setattr("dagml.cli.validate.run", lambda args: 0)
    monkeypatch.setattr("dagml.cli.models.run_list", lambda args: 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as exited:
        cli.entry()
    assert exited.value.code == 0
    assert calls == (["freeze"] if frozen else [])
