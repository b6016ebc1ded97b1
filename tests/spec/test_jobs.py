"""Job settings as declared (dagml/spec/jobs.py): the values each field takes, and how a step's
job= combines with the pipeline's, field by field, for each step kind."""

from __future__ import annotations

import pytest

from dagml import Checkpoints, DeclarationError, JobSettings, Param, Pipeline, Spot
from dagml.spec.jobs import FIELDS, for_companion, resolve

ROLE = "arn:aws:iam::111122223333:role/TeamRole"


def test_every_field_defaults_to_unset():
    job = JobSettings()
    assert all(getattr(job, name) is None for name in FIELDS["training"])
    assert job.active() == () and job.params() == () and job.vpc is None


def test_lists_become_tuples_and_shorthands_become_objects():
    job = JobSettings(subnets=["subnet-1", "subnet-2"], security_groups=("sg-1",), spot=True, checkpoints=True)
    assert job.subnets == ("subnet-1", "subnet-2") and job.security_groups == ("sg-1",)
    assert job.spot == Spot() and job.checkpoints == Checkpoints()
    assert job.vpc == (("subnet-1", "subnet-2"), ("sg-1",))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"role": 42}, r"role=42 must be a string or a String param"),
        ({"subnets": "subnet-1"}, r"subnets='subnet-1' must be a list of IDs\. Fix: subnets=\['subnet-1'\]"),
        ({"security_groups": ["sg-1", 7]}, r"security_groups: 7 is not an ID"),
        ({"subnets": 5}, r"subnets=5 must be a list of IDs"),
        ({"network_isolation": "yes"}, r"network_isolation='yes' must be True or False"),
        ({"encrypt_inter_container": 1}, r"encrypt_inter_container=1 must be True or False"),
        ({"keep_alive": -1}, r"keep_alive=-1 must be a whole number of seconds >= 0"),
        ({"keep_alive": True}, r"keep_alive=True must be a whole number"),
        ({"spot": 3600}, r"spot=3600: use dagml.Spot\(max_wait=<seconds>\)"),
        ({"checkpoints": "s3://b/c"}, r"checkpoints='s3://b/c': use dagml.Checkpoints\(s3=...\)"),
        ({"volume_kms_key": ["alias/k"]}, r"volume_kms_key=\['alias/k'\] must be a string"),
    ],
)
def test_malformed_values_are_refused_where_they_are_written(kwargs, match):
    with pytest.raises(DeclarationError, match=match):
        JobSettings(**kwargs)


def test_spot_and_checkpoints_check_their_own_values():
    with pytest.raises(DeclarationError, match=r"Spot\(max_wait=...\)=0 must be a whole number of seconds >= 1"):
        Spot(max_wait=0)
    with pytest.raises(DeclarationError, match=r"Checkpoints\(s3=...\)=3 must be a string"):
        Checkpoints(s3=3)  # type: ignore[arg-type]
    with pytest.raises(DeclarationError, match=r"local_path='ckpt'\) must be an absolute path"):
        Checkpoints(local_path="ckpt")


def test_a_step_overrides_the_pipeline_field_by_field():
    pipeline = JobSettings(subnets=["subnet-1"], security_groups=["sg-1"], volume_kms_key="alias/v", spot=Spot(7200))
    own = JobSettings(role=ROLE, volume_kms_key="alias/mine")
    job = resolve(pipeline, own, "training")
    assert job == JobSettings(
        role=ROLE, subnets=["subnet-1"], security_groups=["sg-1"], volume_kms_key="alias/mine", spot=Spot(7200)
    )


def test_spot_and_checkpoints_merge_one_level_down():
    pipeline = JobSettings(spot=Spot(max_wait=7200), checkpoints=Checkpoints("s3://b/ckpt", local_path="/opt/x"))
    own = JobSettings(spot=True, checkpoints=Checkpoints(local_path="/opt/y"))
    job = resolve(pipeline, own, "training")
    assert job is not None
    assert job.spot == Spot(max_wait=7200)
    assert job.checkpoints == Checkpoints("s3://b/ckpt", local_path="/opt/y")


def test_off_values_switch_an_inherited_setting_off():
    pipeline = JobSettings(
        subnets=["subnet-1"],
        security_groups=["sg-1"],
        network_isolation=True,
        spot=Spot(7200),
        checkpoints=True,
        keep_alive=600,
    )
    own = JobSettings(
        subnets=[], security_groups=[], network_isolation=False, spot=False, checkpoints=False, keep_alive=0
    )
    job = resolve(pipeline, own, "training")
    assert job is not None and job.active() == () and job.vpc is None


def test_a_pipeline_field_reaches_only_the_steps_whose_job_has_it():
    pipeline = JobSettings(
        role=ROLE,
        subnets=["subnet-1"],
        security_groups=["sg-1"],
        volume_kms_key="alias/v",
        output_kms_key="alias/o",
        network_isolation=True,
        encrypt_inter_container=True,
        spot=Spot(7200),
        checkpoints=True,
        keep_alive=60,
    )
    for kind in ("processing", "training", "container", "model", "transform"):
        job = resolve(pipeline, None, kind)
        assert job is not None and set(job.active()) == FIELDS[kind], kind
    assert resolve(pipeline, None, "register") is None  # CreateModelPackage has none of them
    assert set(FIELDS["processing"]) == FIELDS["training"] - {"spot", "checkpoints", "keep_alive"}
    assert FIELDS["model"] == {"role", "subnets", "security_groups", "network_isolation"}
    assert FIELDS["transform"] == {"volume_kms_key", "output_kms_key"}


def test_a_field_the_step_sets_is_kept_even_where_its_job_lacks_it_so_validation_can_refuse_it():
    job = resolve(JobSettings(spot=Spot(7200)), JobSettings(keep_alive=60), "processing")
    assert job == JobSettings(keep_alive=60)  # the pipeline's spot is not a processing field; keep_alive is the step's


def test_a_companion_model_takes_the_role_and_network_of_its_batch_transform():
    own = JobSettings(role=ROLE, subnets=["subnet-1"], security_groups=["sg-1"], output_kms_key="alias/o", spot=True)
    model, transform = for_companion(own)
    assert model == JobSettings(role=ROLE, subnets=["subnet-1"], security_groups=["sg-1"])
    assert transform == JobSettings(output_kms_key="alias/o", spot=True)
    assert for_companion(None) == (None, None)


def test_steps_get_the_merged_settings_and_the_pipeline_declares_its_params():
    key = Param("KmsKey", "alias/from-param")
    pipe = Pipeline("p", job=JobSettings(volume_kms_key=key, subnets=["subnet-1"], security_groups=["sg-1"]))
    assert pipe.params == (key,)
    role = pipe.param("Role", ROLE)

    @pipe.step(job=JobSettings(role=role))
    def prepare():
        return 1

    @pipe.step(kind="training")
    def fit(prepare):
        return prepare

    served = pipe.model("Served", model=fit, job=JobSettings(network_isolation=False))
    score = pipe.batch_transform("Score", model=fit, data=prepare, job=JobSettings(role=ROLE, output_kms_key=key))
    assert prepare.spec.options.job == JobSettings(
        role=role, subnets=["subnet-1"], security_groups=["sg-1"], volume_kms_key=key
    )
    assert fit.spec.options.job == JobSettings(subnets=["subnet-1"], security_groups=["sg-1"], volume_kms_key=key)
    assert served.spec.job == JobSettings(subnets=["subnet-1"], security_groups=["sg-1"], network_isolation=False)
    assert score.spec.options.job == JobSettings(volume_kms_key=key, output_kms_key=key)
    assert pipe["ScoreModel"].spec.job == JobSettings(role=ROLE, subnets=["subnet-1"], security_groups=["sg-1"])
    pipe.validate()  # and nothing in it is unused or wrong


def test_a_container_step_takes_job_settings_too():
    import dagml

    pipe = Pipeline("p", job=JobSettings(spot=Spot(7200)))
    raw = pipe.dataset("Raw", s3="s3://b/raw.csv")
    xgb = pipe.container("Xgb", image=dagml.Image("xgboost", "1.7-1"), inputs={"train": raw}, job=JobSettings(keep_alive=60))
    assert xgb.spec.options.job == JobSettings(spot=Spot(7200), keep_alive=60)


def test_params_of_another_pipeline_are_refused():
    other = Pipeline("other")
    role = other.param("Role", ROLE)
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match=r"step 'prepare': param 'Role' was not declared on pipeline 'p'"):

        @pipe.step(job=JobSettings(role=role))
        def prepare():
            return 1

    with pytest.raises(DeclarationError, match=r"model 'M': param 'Role' was not declared"):
        pipe.model("M", model="fit", job=JobSettings(role=role))


def test_job_must_be_job_settings():
    pipe = Pipeline("p")
    with pytest.raises(DeclarationError, match=r"step 'prepare': job=\{'role': 'x'\} is not job settings"):

        @pipe.step(job={"role": "x"})
        def prepare():
            return 1

    with pytest.raises(DeclarationError, match=r"pipeline 'q': job='x' is not job settings"):
        Pipeline("q", job="x")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "4"])
def test_max_parallel_steps_is_a_whole_number_of_at_least_one(value):
    with pytest.raises(DeclarationError, match=r"pipeline 'p': max_parallel_steps=.* must be a whole number >= 1"):
        Pipeline("p", max_parallel_steps=value)


def test_max_parallel_steps_reaches_the_graph():
    pipe = Pipeline("p", max_parallel_steps=3)

    @pipe.step
    def prepare():
        return 1

    assert pipe.max_parallel_steps == 3 and pipe.validate().max_parallel_steps == 3
    assert Pipeline("q").max_parallel_steps is None


def test_local_runs_ignore_job_settings(tmp_path):
    """A local run creates no job: a VPC that does not exist here, network isolation, spot change nothing."""
    import sys

    from dagml.api import graph_of
    from dagml.local.runner import run_pipeline
    from dagml.spec.target import load_target

    path = tmp_path / "isolated_flow.py"
    path.write_text(
        "from dagml import JobSettings, Pipeline, Spot\n"
        "pipe = Pipeline('p', job=JobSettings(subnets=['subnet-1'], security_groups=['sg-1'], network_isolation=True))\n"
        "@pipe.step\n"
        "def prepare():\n"
        "    return 21\n"
        "@pipe.step(kind='training', timeout=60, job=JobSettings(spot=Spot(max_wait=120), checkpoints=True))\n"
        "def fit(prepare):\n"
        "    return prepare * 2\n"
    )
    sys.modules.pop("isolated_flow", None)
    result = run_pipeline(graph_of(load_target(str(path))), home=str(tmp_path / "home"))
    assert result.ok, result.error
    assert result.output("fit") == 42


def test_a_script_step_takes_the_settings_of_its_job_kind(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    pipe = Pipeline("p", job=JobSettings(spot=Spot(7200), output_kms_key="alias/o"))
    prep = pipe.script("Prep", path=str(script))
    fit = pipe.script("Fit", path=str(script), kind="training", job=JobSettings(keep_alive=60))
    assert prep.spec.options.job == JobSettings(output_kms_key="alias/o")  # spot is not a processing field
    assert fit.spec.options.job == JobSettings(output_kms_key="alias/o", spot=Spot(7200), keep_alive=60)
