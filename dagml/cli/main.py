"""``dagml`` entry point: subcommands, exit codes and error reporting.

Exit codes (click's convention): 0 success, 1 the pipeline (or a run) failed
or is invalid, 2 usage errors (bad arguments, a TARGET that names nothing).
Errors are one clear message on stderr, never a traceback from dagml's
internals; ``DAGML_DEBUG=1`` shows the traceback anyway.

Only the module of the subcommand named on the command line is imported
(every one for ``dagml``, ``dagml --help`` or an unknown command, so help and
errors stay complete), and ``dagml --version`` imports none: this module's own
imports are the standard library's lightest (docs/performance.md).
"""

from __future__ import annotations

import os
import sys

from dagml._version import __version__

#: ``typing.TYPE_CHECKING`` without importing typing: type checkers treat any constant of this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: A reader closed the pipe (``dagml ... | head``): 128 + SIGPIPE, what a shell reports for a
#: command killed by SIGPIPE, and what ``yes | head`` and friends exit with.
EXIT_PIPE = 128 + 13

#: Modules that add subcommands; each has ``add_parser(subparsers)`` setting ``func``.
COMMANDS = (
    "dagml.cli.init",
    "dagml.cli.validate",
    "dagml.cli.compile",
    "dagml.cli.run",
    "dagml.cli.render",
    "dagml.cli.models",
    "dagml.cli.deploy",
    "dagml.cli.show",
    "dagml.cli.diff",
)
#: The module that adds each subcommand (a test checks it against the parser COMMANDS build).
COMMAND_MODULES = {
    "init": "dagml.cli.init",
    "validate": "dagml.cli.validate",
    "compile": "dagml.cli.compile",
    "run": "dagml.cli.run",
    "runs": "dagml.cli.run",
    "render": "dagml.cli.render",
    "models": "dagml.cli.models",
    "deploy": "dagml.cli.deploy",
    "executions": "dagml.cli.deploy",
    "status": "dagml.cli.deploy",
    "show": "dagml.cli.show",
    "diff": "dagml.cli.diff",
}


def _modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The subcommand modules a command line needs: the one of the subcommand it names; none when
    ``--version`` comes first (argparse prints it and exits before anything else); otherwise all
    (``dagml``, ``dagml --help``, an unknown command: help and "invalid choice" list every one)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            arg = argv[i + 1] if i + 1 < len(argv) else ""
        elif arg.startswith("-"):
            if len(arg) > 2 and "--version".startswith(arg):  # argparse takes unique prefixes too
                return ()
            if arg == "-h" or (len(arg) > 2 and "--help".startswith(arg)):
                return COMMANDS
            continue
        module = COMMAND_MODULES.get(arg)
        return (module,) if module is not None else COMMANDS
    return COMMANDS


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``dagml`` parser: with every subcommand, or, given the command line ``argv``, with those it
    needs (:func:`_modules_for`): importing a subcommand's module is most of a small command's time."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="dagml",
        description="Plain Python functions as SageMaker pipelines: validate, draw, run locally, compile.",
    )
    parser.add_argument("--version", action="version", version=f"dagml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import importlib

    for name in COMMANDS if argv is None else _modules_for(argv):
        importlib.import_module(name).add_parser(sub)
    return parser


def _error(args: argparse.Namespace | None, message: str, code: int, problems: list[dict[str, object]] | None = None) -> int:
    from dagml._text import visible

    if args is not None and getattr(args, "json", False):
        import json

        payload: dict[str, object] = {"ok": False, "error": message}
        if problems is not None:
            payload["problems"] = problems
        print(json.dumps(payload, indent=2, sort_keys=True))
    else:
        print(f"error: {visible(message, newlines=True)}", file=sys.stderr)  # names may be untrusted
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (the console script exits with it)."""
    try:
        return _main(argv)
    except BrokenPipeError:
        return _pipe_closed()


def _pipe_closed() -> int:
    """The reader went away: stop quietly, as the Python docs advise (the signal module's note on
    SIGPIPE): stdout points at /dev/null so the interpreter's last flush cannot raise again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test harness): nothing to silence
        pass
    finally:
        os.close(devnull)
    return EXIT_PIPE


def _main(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not _modules_for(argv):  # --version first: what argparse would print, without importing it
        try:
            sys.stdout.write(f"dagml {__version__}\n")
        except OSError:  # a closed pipe: argparse's --version ignores it too
            pass
        return EXIT_OK
    import gc

    # Start-up builds objects that live until exit (modules, classes, the user's pipeline): searching
    # them for cycles is wasted work, about 15 ms of a cold compile (dagml/_gc.py). A command that only
    # loads, checks and writes (``one_shot``) runs wholly paused; the others collect once parsed.
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            args = build_parser(argv).parse_args(argv)
        except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
            return int(exc.code or 0)
        global _exit_unswept
        _exit_unswept = collecting and getattr(args, "one_shot", False)
        if collecting and not _exit_unswept:
            gc.enable()
        return _dispatch(args)
    finally:
        if collecting:
            gc.enable()


#: Whether the last command run was one-shot: :func:`entry` then skips the interpreter's final cycle
#: search (see there).
_exit_unswept = False


def _dispatch(args: argparse.Namespace) -> int:
    from dagml.errors import ConfigurationError, DagmlError
    from dagml.graph.errors import PipelineValidationError
    from dagml.spec.errors import TargetError

    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except PipelineValidationError as exc:
        return _error(args, str(exc), EXIT_FAILED, [p.to_dict() for p in exc.problems])
    except (TargetError, ConfigurationError) as exc:
        return _error(args, _with_notes(exc), EXIT_USAGE)
    except DagmlError as exc:
        return _error(args, _with_notes(exc), EXIT_FAILED)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP during a run (exit 128 + signal)
        print(f"stopped by {exc}" if str(exc) else "interrupted", file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))
    except BrokenPipeError:  # `| head` closed the pipe: main() ends quietly
        raise
    except Exception:
        if os.environ.get("DAGML_DEBUG"):
            raise
        import traceback

        traceback.print_exc()
        print(
            "error: dagml hit an internal error (a bug in dagml, not in your pipeline); "
            "please report it with the traceback above.",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _with_notes(exc: BaseException) -> str:
    notes = getattr(exc, "__notes__", ())
    return "\n".join([str(exc), *notes])


def entry() -> None:
    code = main()
    try:
        sys.stdout.flush()  # what is still buffered goes now, while a closed pipe can be handled
    except BrokenPipeError:
        code = _pipe_closed()
    if _exit_unswept:
        # The interpreter's shutdown walks every object left for cycles, about 20 ms after a cold
        # compile (docs/performance.md). A one-shot command has closed and written all it opened, and
        # Python does not promise __del__ for objects alive at exit (the data model, object.__del__),
        # so what is left is moved out of the collector's sight instead.
        import gc

        gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
