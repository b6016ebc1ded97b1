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
