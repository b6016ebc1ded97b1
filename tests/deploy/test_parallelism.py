"""``Pipeline(max_parallel_steps=N)`` through ``dagml deploy`` against moto's server: CreatePipeline and
UpdatePipeline receive ``ParallelismConfiguration`` (it is not in the definition), and a deployed limit
that differs is a change to deploy (``parallelism``)."""

from __future__ import annotations

from dagml.cli.main import main
from dagml.sagemaker.deploy import parallelism

FLOW = """
from dagml import Pipeline

pipe = Pipeline("parallel-demo"{limit})


@pipe.step
def prepare():
    return 1


@pipe.step
def score(prepare):
    return prepare
"""


def write_flow(directory, limit=None):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "flow.py"
    path.write_text(FLOW.format(limit="" if limit is None else f", max_parallel_steps={limit}"))
    return str(path)


def described(endpoint):
    return endpoint.client("sagemaker").describe_pipeline(PipelineName="parallel-demo")


def test_create_sends_the_parallelism_configuration(endpoint, tmp_path, capsys):
    assert main(["deploy", write_flow(tmp_path / "a", 4), *endpoint.settings_args()]) == 0
    assert "create pipeline parallel-demo" in capsys.readouterr().out
    assert described(endpoint)["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 4}


def test_without_a_limit_none_is_sent(endpoint, tmp_path, capsys):
    assert main(["deploy", write_flow(tmp_path / "a"), *endpoint.settings_args()]) == 0
    assert "ParallelismConfiguration" not in described(endpoint)


def test_a_changed_limit_updates_and_the_same_pipeline_again_is_no_change(endpoint, tmp_path, capsys):
    assert main(["deploy", write_flow(tmp_path / "a", 4), *endpoint.settings_args()]) == 0
    capsys.readouterr()
    assert main(["deploy", write_flow(tmp_path / "a", 2), *endpoint.settings_args()]) == 0
    out = capsys.readouterr().out
    assert "ParallelismConfiguration changes, MaxParallelExecutionSteps 4 -> 2" in out
    assert "update pipeline parallel-demo" in out
    assert described(endpoint)["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    assert main(["deploy", write_flow(tmp_path / "a", 2), *endpoint.settings_args()]) == 0
    assert "pipeline parallel-demo: no change" in capsys.readouterr().out


def test_dropping_the_limit_says_the_deployed_one_stays(endpoint, tmp_path, capsys):
    assert main(["deploy", write_flow(tmp_path / "a", 3), *endpoint.settings_args()]) == 0
    capsys.readouterr()
    assert main(["deploy", write_flow(tmp_path / "a"), *endpoint.settings_args()]) == 0
    out = capsys.readouterr().out
    assert "the deployed pipeline keeps MaxParallelExecutionSteps=3" in out
    assert "update pipeline parallel-demo" in out  # the pipeline file changed, so its code did


def test_the_dry_run_plan_names_no_call(endpoint, tmp_path, capsys):
    assert main(["deploy", write_flow(tmp_path / "a", 4), *endpoint.settings_args(), "--dry-run"]) == 0
    assert "would create pipeline parallel-demo" in capsys.readouterr().out
    assert endpoint.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


def test_parallelism_compares_the_deployed_limit():
    notes = []
    assert parallelism({}, None, notes.append) is None and notes == []
    assert parallelism({"ParallelismConfiguration": {"MaxParallelExecutionSteps": 4}}, 4, notes.append) is None
    assert parallelism({}, 4, notes.append) == "MaxParallelExecutionSteps None -> 4"
    assert parallelism({"ParallelismConfiguration": {"MaxParallelExecutionSteps": 4}}, None, notes.append) is None
    assert notes and "keeps MaxParallelExecutionSteps=4" in notes[0]
