"""Pipelines declared in notebook cells (issue #17): real notebooks, executed headless on a Jupyter kernel.

Each notebook runs in a directory of its own (the kernel's working directory, where dagml writes
the module of a notebook pipeline), with the run store there too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import nbclient
import nbformat
import pytest

from dagml.spec.notebook import HEADER
from tests.conftest import EXAMPLES


def execute(directory, cells: list[str] | None = None, notebook: str | None = None, allow_errors: bool = False):
    """Run a notebook (given cells, or a file) with cwd ``directory``; return it with its outputs."""
    if notebook is not None:
        nb = nbformat.read(notebook, as_version=4)
    else:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells or []])
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=300, allow_errors=allow_errors, resources={"metadata": {"path": str(directory)}}
    )
    client.execute()
    return nb


def outputs(cell) -> list[dict]:
    return list(cell.get("outputs", []))


def errors(nb) -> list[str]:
    return [f"{o['ename']}: {o['evalue']}" for c in nb.cells for o in outputs(c) if o["output_type"] == "error"]


def text_of(cell) -> str:
    parts = []
    for o in outputs(cell):
        parts.append(o.get("text", ""))
        parts.append(o.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_the_iris_notebook_validates_draws_runs_and_compiles(tmp_path):
    shutil.copy(os.path.join(EXAMPLES, "iris_notebook.ipynb"), tmp_path)
    shutil.copytree(os.path.join(EXAMPLES, "data"), tmp_path / "data")
    nb = execute(tmp_path, notebook=str(tmp_path / "iris_notebook.ipynb"))
    assert errors(nb) == []
    code = [c for c in nb.cells if c.cell_type == "code"]
    drawn = [o for o in outputs(code[5]) if o["output_type"] == "execute_result"]
    assert "image/svg+xml" in drawn[0]["data"] and "CheckAccuracy" in drawn[0]["data"]["image/svg+xml"]
    run = next(o for o in outputs(code[6]) if o["output_type"] == "execute_result")["data"]
    assert "of iris-classifier: Succeeded" in run["text/plain"] and "RegisterModel" in run["text/plain"]
    assert "run " in run["image/svg+xml"] and "Succeeded" in run["image/svg+xml"]
    assert "characters of pipeline definition" in text_of(code[7])
    # the module written from the cells: the declarations only, loadable by the CLI as any file
    module = (tmp_path / "iris_classifier_notebook.py").read_text()
    assert module.startswith(HEADER)
    assert "pipe.run(" not in module and "prepare(0.3)" not in module and "compile(" not in module
    assert "from typing import Any" in module  # the annotations' names, from a cell that declares nothing
    done = subprocess.run(
        [sys.executable, "-m", "dagml.cli.main", "validate", "iris_classifier_notebook.py", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert [s["name"] for s in json.loads(done.stdout)["summary"]["steps"]][:3] == ["prepare", "train", "evaluate"]


def test_the_written_module_is_deterministic_and_rewritten_only_when_cells_change(tmp_path):
    cells = [
        "from dagml import Pipeline\npipe = Pipeline('det-demo')",
        "@pipe.step\ndef a():\n    return 1",
        "import dagml\ncompiled = dagml.compile(pipe, role_arn='arn:aws:iam::111122223333:role/R', bucket='bucket-b', "
        "region='us-east-1')\nimport os\nprint(os.stat('det_demo_notebook.py').st_mtime_ns)",
        "compiled = dagml.compile(pipe, role_arn='arn:aws:iam::111122223333:role/R', bucket='bucket-b', "
        "region='us-east-1')\nprint(os.stat('det_demo_notebook.py').st_mtime_ns)",
    ]
    first = execute(tmp_path, cells)
    text = (tmp_path / "det_demo_notebook.py").read_text()
    assert errors(first) == []
    assert text_of(first.cells[2]) == text_of(first.cells[3])  # not rewritten when nothing changed
    execute(tmp_path, cells)
    assert (tmp_path / "det_demo_notebook.py").read_text() == text


def test_an_invalid_pipeline_displays_its_problems_without_a_traceback(tmp_path):
    nb = execute(
        tmp_path,
        ["from dagml import Pipeline\npipe = Pipeline('broken')\n@pipe.step\ndef train(prepare):\n    return prepare\npipe"],
    )
    assert errors(nb) == []
    (shown,) = outputs(nb.cells[0])
    assert set(shown["data"]) == {"text/plain"}
    assert "parameter 'prepare' has no default and names no step" in shown["data"]["text/plain"]


def test_helpers_and_constants_from_other_cells_reach_the_workers(tmp_path):
    nb = execute(
        tmp_path,
        [
            "import math\nfrom dagml import Pipeline",
            "SCALE = 3\ndef helper(x):\n    return math.floor(x * SCALE)",
            "OFFSETS = {'a': 1.5}",
            "pipe = Pipeline('nb-helpers')\nlimit = pipe.param('Limit', 2.0)",
            "@pipe.step\ndef prepare():\n    return [1, 2, 3]\n\n@pipe.step(metrics=True)\n"
            "def evaluate(prepare):\n    return {'score': float(helper(len(prepare))) + OFFSETS['a']}\nprepare()",
            "stop = pipe.fail('TooLow', ['score ', evaluate['score']])\n"
            "pipe.condition('Gate', evaluate['score'] >= limit, otherwise=[stop])",
            "result = pipe.run(home='home')\nprint(result.status, result.metrics('evaluate'))",
            "summary = result.status\nprint(summary)",
        ],
    )
    assert errors(nb) == []
    assert text_of(nb.cells[6]) == "Succeeded {'score': 10.5}\n"
    module = (tmp_path / "nb_helpers_notebook.py").read_text()
    assert "import math" in module and "OFFSETS = {'a': 1.5}" in module and "def helper(x):" in module
    assert "from dagml import Pipeline" in module
    assert "result" not in module and "summary" not in module and "\nprepare()" not in module


def test_a_value_that_cannot_be_written_out_is_refused_naming_the_step_and_the_fix(tmp_path):
    nb = execute(
        tmp_path,
        [
            "from dagml import Pipeline\nimport threading\nLOCK = threading.Lock()",
            "pipe = Pipeline('nb-lock')\n@pipe.step\ndef a():\n    with LOCK:\n        return 1",
            "pipe.run(home='home')",
        ],
        allow_errors=True,
    )
    (error,) = errors(nb)
    assert error.startswith("NotebookExportError: pipeline 'nb-lock': function 'a' uses 'LOCK' from the notebook")
    assert "Fix: create it inside the step" in error


def test_a_declaration_the_cells_cannot_replay_is_caught_before_anything_runs(tmp_path):
    """Steps declared by a function that a cell only calls as an expression: the module would miss them."""
    nb = execute(
        tmp_path,
        [
            "from dagml import Pipeline\npipe = Pipeline('nb-hidden')\n@pipe.step\ndef a():\n    return 1",
            "def more():\n    pipe.step(name='b')(lambda: 2)\nmore()",
            "pipe.run(home='home')",
        ],
        allow_errors=True,
    )
    (error,) = errors(nb)
    assert error.startswith("NotebookExportError: pipeline 'nb-hidden', step 'b': its function")


def test_a_file_of_the_users_is_never_overwritten(tmp_path):
    (tmp_path / "mine_notebook.py").write_text("# my own module\n")
    nb = execute(
        tmp_path,
        ["from dagml import Pipeline\npipe = Pipeline('mine')\n@pipe.step\ndef a():\n    return 1", "pipe.run(home='home')"],
        allow_errors=True,
    )
    (error,) = errors(nb)
    assert "a file of yours is there. Fix: rename that file, or the pipeline." in error
    assert (tmp_path / "mine_notebook.py").read_text() == "# my own module\n"


@pytest.mark.parametrize("cell", ["pipe.validate()", "pipe"])
def test_validating_and_drawing_write_nothing(tmp_path, cell):
    execute(tmp_path, ["from dagml import Pipeline\npipe = Pipeline('quiet')\n@pipe.step\ndef a():\n    return 1", cell])
    assert sorted(os.listdir(tmp_path)) == []
