"""The compiler: golden definitions, the mapping, the schema oracle, determinism, offline."""

import json
import os
import shutil
import subprocess
import sys

import jsonschema
import pytest

from dagml import Pipeline
from dagml.api import graph_of
from dagml.cli.main import main
from dagml.sagemaker import CompileError, compile_pipeline
from dagml.spec.target import load_target
from tests.conftest import ROOT
from tests.golden_json import GOLDEN_SETTINGS, PIPELINES, compile_golden, golden_sources, normalize
from tests.sagemaker.schema_allowlist import ALLOWLIST
from tests.sagemaker.schema_allowlist import normalize as allow

IRIS = os.path.join(ROOT, "examples", "iris_pipeline.py")
SCHEMA = os.path.join(os.path.dirname(__file__), "data", "sagemaker-pipeline-definition.schema.json")
FLAGS = [f"--{k.replace('_', '-')}={v}" for k, v in GOLDEN_SETTINGS.items()]


@pytest.mark.parametrize("name", sorted(golden_sources()))
def test_golden_definitions(name):
    """`make golden` regenerates these; a diff here is a change in what dagml emits."""
    with open(os.path.join(PIPELINES, f"{name}.json"), encoding="utf-8") as f:
        expected = f.read()
    assert compile_golden(golden_sources()[name]) == expected


def test_golden_pair_through_the_cli(tmp_path, capsys):
    out = tmp_path / "iris.json"
    assert main(["compile", IRIS, "-o", str(out), *FLAGS]) == 0
    with open(os.path.join(PIPELINES, "iris.json"), encoding="utf-8") as f:
        assert normalize(out.read_text()) == f.read()
    assert "compiled iris-classifier" in capsys.readouterr().err


def load_definition(name):
    with open(os.path.join(PIPELINES, f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def walk(steps):
    for s in steps:
        yield s
        if s["Type"] == "Condition":
            yield from walk(s["Arguments"]["IfSteps"])
            yield from walk(s["Arguments"]["ElseSteps"])


#: Where iris's gate reads the accuracy: its report is in SageMaker's model-quality format.
IRIS_ACCURACY = "multiclass_classification_metrics.accuracy.value"


def test_iris_maps_each_intent_to_its_step_type():
    d = load_definition("iris")
    assert [(s["Name"], s["Type"]) for s in d["Steps"]] == [
        ("prepare", "Processing"),
        ("train", "Training"),
        ("evaluate", "Processing"),
        ("CheckAccuracy", "Condition"),
    ]
    cond = d["Steps"][3]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in cond["IfSteps"]] == [
        ("RegisterModel", "RegisterModel"),
        ("BatchTransformModel", "Model"),
        ("BatchTransform", "Transform"),
    ]
    assert [(s["Name"], s["Type"]) for s in cond["ElseSteps"]] == [("AccuracyTooLow", "Fail")]
    assert cond["Conditions"] == [
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.EvaluationReport"}, "Path": IRIS_ACCURACY}},
            "RightValue": {"Get": "Parameters.AccuracyThreshold"},
        }
    ]
    steps = {s["Name"]: s for s in walk(d["Steps"])}
    assert steps["evaluate"]["PropertyFiles"] == [
        {"PropertyFileName": "EvaluationReport", "OutputName": "metrics", "FilePath": "evaluation.json"}
    ]
    assert "PropertyFiles" not in steps["prepare"]
    train_inputs = steps["evaluate"]["Arguments"]["ProcessingInputs"]
    assert {i["InputName"]: i["S3Input"]["S3Uri"] for i in train_inputs}["train"] == {
        "Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"
    }
    hp = steps["train"]["Arguments"]["HyperParameters"]
    # typed params in string fields are joined into strings: the service refuses bare typed references
    assert hp["NEstimators"] == {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.NEstimators"}]}}
    assert hp["dagml_step"] == "train"
    args = steps["prepare"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert args[-3:] == ["--param", "TestSize", {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.TestSize"}]}}]
    reg = steps["RegisterModel"]["Arguments"]
    assert reg["ModelPackageGroupName"] == "SklearnIris" and reg["ModelApprovalStatus"] == "Approved"
    assert reg["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == {"Get": "Steps.train.ModelArtifacts.S3ModelArtifacts"}
    # the evaluate step's own metrics output (its execution's, or the cached one's), then the report
    assert reg["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [{"Get": "Steps.evaluate.ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"}, "evaluation.json"]
        }
    }
    assert steps["BatchTransform"]["Arguments"]["ModelName"] == {"Get": "Steps.BatchTransformModel.ModelName"}
    assert steps["AccuracyTooLow"]["Arguments"]["ErrorMessage"] == {
        "Std:Join": {
            "On": "",
            "Values": [
                "Held-out accuracy ",
                {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.evaluate.PropertyFiles.EvaluationReport"}, "Path": IRIS_ACCURACY}},
                " is below the threshold ",
                {"Get": "Parameters.AccuracyThreshold"},
            ],
        }
    }
    assert [p["Name"] for p in d["Parameters"]] == ["AccuracyThreshold", "NEstimators", "MinSamplesLeaf", "TestSize", "ScoringData"]
    assert d["Parameters"][-1]["DefaultValue"].startswith("s3://dagml-example-bucket/dagml/data/")


def test_step_options_compile_to_their_fields():
    d = load_definition("options")
    steps = {s["Name"]: s for s in walk(d["Steps"])}
    load = steps["load"]
    cluster = load["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert cluster == {
        "InstanceType": {"Get": "Parameters.ProcessingInstanceType"},
        "InstanceCount": {"Get": "Parameters.ProcessingInstanceCount"},
        "VolumeSizeInGB": 50,
    }
    assert load["Arguments"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert load["Arguments"]["Environment"] == {"A_FLAG": "1", "LOG_LEVEL": "debug"}
    assert {"Key": "team", "Value": "ml"} in load["Arguments"]["Tags"]
    assert load["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P7D"}
    assert load["RetryPolicies"][0] == {
        "ExceptionType": ["Step.SERVICE_FAULT", "Step.THROTTLING"], "MaxAttempts": 4, "IntervalSeconds": 5, "BackoffRate": 2.0
    }
    assert load["DisplayName"] == "Load-raw-data" and load["Description"] == "Reads the raw CSV"
    assert steps["fit"]["DependsOn"] == ["load"] and steps["publish"]["DependsOn"] == ["fit", "audit"]
    assert "DependsOn" not in steps["audit"]
    raw = {i["InputName"]: i for i in load["Arguments"]["ProcessingInputs"]}["raw"]
    assert raw["S3Input"]["S3Uri"] == {"Get": "Parameters.RawData"}
    params = {p["Name"]: p for p in d["Parameters"]}
    assert params["ProcessingInstanceType"]["EnumValues"] == ["ml.m5.large", "ml.m5.xlarge"]
    assert params["UseGpu"] == {"Name": "UseGpu", "Type": "Boolean", "DefaultValue": False}
    assert params["RawData"]["DefaultValue"] == "s3://example-bucket/raw/data.csv"


def test_branch_conditions_lower_and_or_not_in():
    d = load_definition("branches")
    gate = next(s for s in d["Steps"] if s["Type"] == "Condition")
    (top,) = gate["Arguments"]["Conditions"]
    assert top["Type"] == "Or" and [c["Type"] for c in top["Conditions"]] == ["Not", "Not"]
    text = json.dumps(top)
    assert '"Type": "In"' in text and '"QueryValue"' in text and '"Type": "Equals"' in text


def schema_errors(definition):
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft4Validator(schema)
    normalized, used = allow(definition)
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(normalized)], used


@pytest.mark.parametrize("name", sorted(golden_sources()))
def test_goldens_meet_the_official_schema_outside_the_allowlist(name):
    errors, _ = schema_errors(load_definition(name))
    assert errors == []


def test_every_allowlist_entry_is_needed_by_some_golden():
    used = set()
    for name in golden_sources():
        used |= schema_errors(load_definition(name))[1]
    assert used == {name for name, _, _ in ALLOWLIST}


def test_the_schema_check_catches_a_real_defect():
    d = load_definition("minimal")
    d["Steps"][0]["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = "one"
    errors, _ = schema_errors(d)
    assert errors


def test_compiled_json_has_no_absolute_path_version_or_secret(monkeypatch, settings):
    import dagml

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    text = compile_pipeline(graph_of(load_target(IRIS)), settings).json
    assert ROOT not in text and os.path.expanduser("~") not in text
    assert dagml.__version__ not in text.replace("2020-12-01", "")
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "EXAMPLEKEY" not in text
    assert text.endswith("}\n") and json.loads(text)


def copy_checkout(dest):
    for part in ("dagml", "examples"):
        shutil.copytree(os.path.join(ROOT, part), os.path.join(dest, part), ignore=shutil.ignore_patterns("__pycache__"))


def compile_in_process(checkout, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGML_")}
    env["PYTHONPATH"] = checkout
    env["PYTHONHASHSEED"] = "random"
    result = subprocess.run(
        [sys.executable, "-m", "dagml.cli.main", "compile", os.path.join(checkout, "examples", "iris_pipeline.py"), *FLAGS],
        capture_output=True,
        cwd=cwd,
        env=env,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def test_two_processes_two_checkouts_same_bytes(tmp_path):
    a, b = tmp_path / "one" / "checkout", tmp_path / "elsewhere" / "deeper" / "clone"
    copy_checkout(a)
    copy_checkout(b)
    first = compile_in_process(str(a), str(tmp_path))
    second = compile_in_process(str(b), str(b))
    assert first == second
    assert b"/code/" in first and str(tmp_path).encode() not in first


def test_code_changes_change_the_bundle_key(tmp_path, settings):
    src = tmp_path / "flow.py"
    src.write_text("from dagml import Pipeline\npipe = Pipeline('flow')\n@pipe.step\ndef a():\n    return 1\n")
    first = compile_pipeline(graph_of(load_target(str(src))), settings).code_prefix
    src.write_text("from dagml import Pipeline\npipe = Pipeline('flow')\n@pipe.step\ndef a():\n    return 2\n")
    sys.modules.pop("flow", None)
    second = compile_pipeline(graph_of(load_target(str(src))), settings).code_prefix
    assert first != second


def test_compile_never_touches_the_network():
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network is disabled in this test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\nsocket.getaddrinfo = refuse\n"
        "from dagml.cli.main import main\n"
        f"raise SystemExit(main(['compile', {IRIS!r}, *{FLAGS!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == "2020-12-01"


def test_missing_settings_exit_2_and_name_the_three_ways(tmp_path, capsys, monkeypatch):
    for var in ("DAGML_ROLE_ARN", "DAGML_BUCKET", "DAGML_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["compile", IRIS]) == 2
    err = capsys.readouterr().err
    assert "--role-arn VALUE" in err and "DAGML_BUCKET=VALUE" in err and "[tool.dagml]" in err


def test_local_dataset_must_exist(tmp_path, settings):
    src = tmp_path / "data_flow.py"
    src.write_text(
        "from dagml import Pipeline\npipe = Pipeline('data-flow')\nd = pipe.dataset('Raw', local='missing.csv')\n"
        "@pipe.step\ndef a(x=d):\n    return x\n"
    )
    with pytest.raises(CompileError, match=r"dataset 'Raw'.*missing.csv"):
        compile_pipeline(graph_of(load_target(str(src))), settings)


def test_a_pipeline_without_a_file_cannot_ship(settings):
    pipe = Pipeline("interactive")
    pipe.source_file = None

    @pipe.step
    def a():
        pass

    with pytest.raises(CompileError, match="not declared in a .py file"):
        compile_pipeline(graph_of(pipe), settings)


def test_a_register_step_waits_for_its_metrics_step(tmp_path, settings):
    """Its metrics report is a literal S3 URI, so without a condition between them only DependsOn orders them."""
    src = tmp_path / "standalone.py"
    src.write_text(
        "from dagml import Pipeline\npipe = Pipeline('standalone')\n"
        "@pipe.step(kind='training')\ndef fit():\n    return 1\n"
        "@pipe.step(metrics=True)\ndef score(fit):\n    return {'regression_metrics': {'mse': {'value': 1.0}}}\n"
        "pipe.register_model('Register', model=fit, group='G', metrics=score)\n"
    )
    steps = {s["Name"]: s for s in compile_pipeline(graph_of(load_target(str(src))), settings).definition["Steps"]}
    assert steps["Register"]["DependsOn"] == ["score"]
    iris = {s["Name"]: s for s in walk(load_definition("iris")["Steps"])}
    assert "DependsOn" not in iris["RegisterModel"]  # the condition already orders evaluate first


def test_bundle_include_and_exclude_settings_choose_the_shipped_files(tmp_path, monkeypatch):
    """[tool.dagml] bundle_include / bundle_exclude reach the code bundle compile builds."""
    from dagml.sagemaker.settings import load_settings

    project = tmp_path / "proj"
    (project / "conf").mkdir(parents=True)
    (project / "scripts").mkdir()
    (project / "conf" / "model.yaml").write_text("depth: 3\n")
    (project / "scripts" / "tool.py").write_text("X = 1\n")
    src = project / "bundled_flow.py"
    src.write_text("from dagml import Pipeline\npipe = Pipeline('bundled')\n@pipe.step\ndef a():\n    return 1\n")
    (project / "pyproject.toml").write_text(
        "[tool.dagml]\n"
        + "".join(f'{k} = "{v}"\n' for k, v in GOLDEN_SETTINGS.items())
        + 'bundle_include = ["conf/*.yaml"]\nbundle_exclude = ["scripts/*"]\n'
    )
    monkeypatch.chdir(project)
    settings = load_settings(environ={})
    assert settings.bundle_include == ("conf/*.yaml",) and settings.bundle_exclude == ("scripts/*",)
    names = compile_pipeline(graph_of(load_target(str(src))), settings).bundle.names
    assert "conf/model.yaml" in names and "bundled_flow.py" in names
    assert not any(n.startswith("scripts/") for n in names)


NESTED_FLOW = '''
from dagml import Pipeline

pipe = Pipeline("nested-flow")
limit = pipe.param("Limit", 0.5)


@pipe.step(metrics=True)
def score():
    return {"accuracy": 0.9, "recall": 0.8}


inner = pipe.condition("Inner", score["recall"] > limit, then=[pipe.fail("LowPrecision")])
pipe.condition("Outer", score["accuracy"] >= limit, then=[inner], otherwise=[pipe.fail("LowAccuracy")])
'''


def test_a_nested_condition_compiles_into_its_branch_and_imports_back(tmp_path, settings):
    """SageMaker runs nested conditions (docs/deploy.md): the inner one sits in the outer's IfSteps."""
    from dagml.sagemaker.importer import import_definition

    src = tmp_path / "nested_flow.py"
    src.write_text(NESTED_FLOW)
    sys.modules.pop("nested_flow", None)
    compiled = compile_pipeline(graph_of(load_target(str(src))), settings)
    (outer,) = [s for s in compiled.definition["Steps"] if s["Type"] == "Condition"]
    (inner,) = outer["Arguments"]["IfSteps"]
    assert inner["Name"] == "Inner" and [s["Name"] for s in inner["Arguments"]["IfSteps"]] == ["LowPrecision"]
    graph = import_definition(compiled.json, name="nested-flow")
    assert graph.enclosing("LowPrecision") == (("Outer", "then"), ("Inner", "then"))
    assert compile_pipeline(graph_of(import_definition(compiled.json, name="nested-flow")), None).json == compiled.json
