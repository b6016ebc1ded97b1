"""Every command is pipe-safe: `dagml ... | head` ends quietly, with 128 + SIGPIPE (issue #17)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, ROOT

IRIS = os.path.join(EXAMPLES, "iris_pipeline.py")
DEFINITION = os.path.join(ROOT, "tests", "pipelines", "iris.json")
SETTINGS = ["--role-arn", "arn:aws:iam::111122223333:role/R", "--bucket", "dagml-pipe-bucket", "--region", "us-east-1"]

#: A command for each subcommand that writes to standard output (and the two argparse prints).
COMMANDS = {
    "version": ["--version"],
    "help": ["--help"],
    "validate": ["validate", IRIS],
    "validate --json": ["validate", IRIS, "--json"],
    "render": ["render", IRIS],
    "compile": ["compile", IRIS, *SETTINGS],
    "show": ["show", DEFINITION],
    "diff --json": ["diff", DEFINITION, IRIS, "--json", *SETTINGS],
    "run --json": ["run", IRIS, "--json"],
    "runs list": ["runs", "list"],
    "models list": ["models", "list"],
}


def _with_closed_pipe(args: list[str], home: str) -> subprocess.CompletedProcess[bytes]:
    """Run dagml with standard output a pipe whose reader has already gone (like `| head -0`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "dagml.cli.main", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "DAGML_HOME": home},
            timeout=300,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_closed_pipe_ends_the_command_quietly(name, tmp_path):
    done = _with_closed_pipe(COMMANDS[name], str(tmp_path / "home"))
    # argparse's --help/--version swallow the failed write themselves and exit 0: quiet too
    assert done.returncode == (0 if name in ("help", "version") else 141), done.stderr.decode()
    # nothing on stderr but the command's own progress lines: no traceback, no "internal error"
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr
    assert b"BrokenPipeError" not in done.stderr and b"Exception ignored" not in done.stderr


def test_head_sees_the_first_lines_and_the_pipeline_status_is_sigpipes():
    shell = f"{sys.executable} -m dagml.cli.main diff {DEFINITION} {DEFINITION} --json | head -2"
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {shell}"], capture_output=True, cwd=ROOT, timeout=300)
    assert done.stdout.decode().splitlines()[0] == "{"
    # 0 when dagml wrote everything before head left (the pipe's buffer took it), else 141
    assert done.returncode in (0, 141) and done.stderr == b"", done.stderr.decode()
