"""Images and requirements as declared (dagml.spec.environment, Pipeline and @pipe.step)."""

from __future__ import annotations

import pytest

from dagml import DeclarationError, Image, Pipeline


def test_an_image_is_a_framework_and_version_or_a_uri():
    assert str(Image("xgboost", "1.7-1")) == "xgboost 1.7-1"
    assert Image(uri="1.dkr.ecr.us-east-1.amazonaws.com/team/train:3", python="3.11").python_version == (3, 11)
    assert Image("pytorch", "2.5", python="py311").python_version == (3, 11)
    for bad, match in (
        (lambda: Image("xgboost"), "name a SageMaker framework"),
        (lambda: Image("xgboost", "1.7-1", uri="x"), "either Image"),
        (lambda: Image(uri="has space"), "without spaces"),
        (lambda: Image("xgboost", "1.7-1", python="three"), "Python as '3.11'"),
    ):
        with pytest.raises(DeclarationError, match=match):
            bad()


def test_a_step_replaces_the_pipelines_image_and_adds_to_its_requirements():
    pipe = Pipeline("envs", image=Image("sklearn", "1.4-2"), requirements=["joblib"])

    @pipe.step
    def plain() -> None: ...

    @pipe.step(image="1.dkr.ecr.us-east-1.amazonaws.com/mine:1", requirements=["xgboost-cpu==3.0.5", "joblib"])
    def own() -> None: ...

    graph = pipe.validate()
    assert graph["plain"].image == Image("sklearn", "1.4-2") and graph["plain"].requirements == ("joblib",)
    assert graph["own"].image == Image(uri="1.dkr.ecr.us-east-1.amazonaws.com/mine:1")
    assert graph["own"].requirements == ("joblib", "xgboost-cpu==3.0.5")


def test_a_requirements_file_is_read_relative_to_the_pipeline_file(tmp_path):
    (tmp_path / "requirements.txt").write_text("# ours\nxgboost-cpu==3.0.5  # the CPU build\n\nscipy>=1.9\n")
    source = tmp_path / "flow.py"
    source.write_text(
        "from dagml import Pipeline\npipe = Pipeline('f')\n"
        "@pipe.step(requirements='requirements.txt')\ndef a() -> None: ...\n"
    )
    namespace: dict = {"__file__": str(source), "__name__": "flow"}
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    assert namespace["pipe"].validate()["a"].requirements == ("xgboost-cpu==3.0.5", "scipy>=1.9")


@pytest.mark.parametrize(
    ("requirements", "match"),
    [
        (["https://example.com/x.whl"], "not a package requirement dagml can ship"),
        (["pkg @ file:///tmp/pkg"], "not a package requirement"),
        (["-e ."], "not a package requirement"),
        ("xgboost", "must be a list of requirements"),
        ([3], "not a package requirement"),
        ("missing-requirements.txt", "cannot be read"),
    ],
)
def test_requirements_dagml_cannot_ship_are_refused_at_declaration(requirements, match):
    pipe = Pipeline("envs")
    with pytest.raises(DeclarationError, match=match) as caught:

        @pipe.step(requirements=requirements)
        def a() -> None: ...

    assert "step 'a'" in str(caught.value)


def test_pip_options_in_a_requirements_file_are_refused(tmp_path):
    (tmp_path / "req.txt").write_text("xgboost\n--index-url https://example.com/simple\n")
    with pytest.raises(DeclarationError, match=r"req.txt, line 2: '--index-url .*' is a pip option"):
        Pipeline("envs", requirements=tmp_path / "req.txt")


def test_a_container_step_needs_an_image_and_checks_what_it_is_given():
    pipe = Pipeline("envs")
    data = pipe.dataset("Data", s3="s3://b/d")
    with pytest.raises(DeclarationError, match="image= is required"):
        pipe.container("fit", image=None)  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match="hyperparameter 'n'=.* must be a string, a number"):
        pipe.container("fit", image=Image("xgboost", "1.7-1"), hyperparameters={"n": [1]})  # type: ignore[dict-item]
    with pytest.raises(DeclarationError, match="entrypoint="):
        pipe.container("fit", image=Image("xgboost", "1.7-1"), entrypoint="train")
    fit = pipe.container(
        "fit", image=Image("xgboost", "1.7-1"), inputs={"train": data}, hyperparameters={"eta": 0.2, "early": True}
    )
    spec = pipe.validate()["fit"]
    assert spec.kind == "container" and fit.name == "fit"
    assert spec.hyperparameters == (("eta", "0.2"), ("early", "true"))
