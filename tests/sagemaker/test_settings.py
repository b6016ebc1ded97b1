import os

import pytest

from dagml.sagemaker.settings import Settings, SettingsError, load_settings

ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"


def test_flags_beat_environment_beat_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dagml]\nrole_arn = "arn:aws:iam::111122223333:role/FromToml"\nbucket = "toml-bucket"\nregion = "eu-west-1"\n'
    )
    env = {"DAGML_BUCKET": "env-bucket"}
    s = load_settings({"region": "us-west-2"}, environ=env, start=tmp_path)
    assert s.role_arn.endswith("FromToml") and s.bucket == "env-bucket" and s.region == "us-west-2"


def test_pyproject_is_found_in_a_parent_directory(tmp_path):
    (tmp_path / "pyproject.toml").write_text(f'[tool.dagml]\nrole_arn = "{ROLE}"\nbucket = "b-1"\nregion = "us-east-1"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert load_settings(environ={}, start=nested).bucket == "b-1"


def test_missing_settings_name_the_three_ways(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings(environ={}, start=tmp_path, pipeline="iris-classifier")
    text = str(info.value)
    assert "pipeline 'iris-classifier'" in text and "role_arn, bucket, region" in text
    assert "--role-arn VALUE" in text and "DAGML_ROLE_ARN=VALUE" in text and "[tool.dagml]" in text


def test_aws_region_variables_are_a_fallback(tmp_path):
    s = load_settings({"role_arn": ROLE, "bucket": "bkt"}, environ={"AWS_DEFAULT_REGION": "eu-central-1"}, start=tmp_path)
    assert s.region == "eu-central-1"


def test_unknown_pyproject_setting_is_refused(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dagml]\nrole = "x"\n')
    with pytest.raises(SettingsError, match="unknown \\[tool.dagml\\] setting"):
        load_settings(environ={}, start=tmp_path)


@pytest.mark.parametrize(
    "field, bad",
    [("role_arn", "SageMakerRole"), ("bucket", "s3://bucket"), ("region", "useast1"), ("prefix", "/lead"), ("instance_type", "m5.large")],
)
def test_malformed_settings_are_refused(field, bad):
    values = {"role_arn": ROLE, "bucket": "bkt", "region": "us-east-1", field: bad}
    with pytest.raises(SettingsError, match=field):
        Settings(**values)


def test_image_defaults_to_the_sklearn_framework_image():
    s = Settings(role_arn=ROLE, bucket="bkt", region="us-east-1")
    assert s.image == "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
    assert Settings(role_arn=ROLE, bucket="bkt", region="us-east-1", image_uri="my/image:1").image == "my/image:1"
    assert s.base_uri == "s3://bkt/dagml"


def test_experiment_config_follows_the_sdks_regions_unless_set():
    assert Settings(role_arn=ROLE, bucket="bkt", region="us-east-1").experiments is True
    assert Settings(role_arn=ROLE, bucket="bkt", region="ap-south-2").experiments is False
    assert Settings(role_arn=ROLE, bucket="bkt", region="ap-south-2", experiment_config=True).experiments is True


def test_bundle_patterns_are_optional_lists_of_strings(tmp_path):
    base = f'[tool.dagml]\nrole_arn = "{ROLE}"\nbucket = "b-1"\nregion = "us-east-1"\n'
    (tmp_path / "pyproject.toml").write_text(base)
    s = load_settings(environ={}, start=tmp_path)
    assert s.bundle_include == () and s.bundle_exclude == ()
    (tmp_path / "pyproject.toml").write_text(base + 'bundle_include = ["conf/*.yaml"]\nbundle_exclude = ["scripts/*"]\n')
    s = load_settings(environ={"DAGML_BUNDLE_EXCLUDE": "notebooks/**, tmp/*"}, start=tmp_path)
    assert s.bundle_include == ("conf/*.yaml",) and s.bundle_exclude == ("notebooks/**", "tmp/*")
    (tmp_path / "pyproject.toml").write_text(base + 'bundle_include = "conf/*.yaml"\n')
    with pytest.raises(SettingsError, match=r"bundle_include=.*list of glob patterns.*Fix:"):
        load_settings(environ={}, start=tmp_path)
    with pytest.raises(SettingsError, match="bundle_exclude"):
        Settings(role_arn=ROLE, bucket="bkt", region="us-east-1", bundle_exclude="scripts/*")


def test_every_malformed_setting_is_one_problem_in_the_order_the_message_lists_them():
    with pytest.raises(SettingsError) as info:
        Settings(role_arn="SageMakerRole", bucket="s3://my-bucket/data", region="useast1", prefix="/a//b c/", instance_type="m5.large", bundle_include=["conf/*", " "])
    problems = info.value.problems
    assert [(p.kind, p.steps, p.severity) for p in problems] == [
        ("invalid-setting", ("role_arn",), "error"),
        ("invalid-setting", ("bucket",), "error"),
        ("invalid-setting", ("region",), "error"),
        ("invalid-setting", ("prefix",), "error"),
        ("invalid-setting", ("instance_type",), "error"),
        ("invalid-setting", ("bundle_include",), "error"),
    ]
    # the text is the problems' messages joined, as it always was
    assert str(info.value) == "invalid settings: " + "; ".join(p.message.removesuffix(".") for p in problems) + "."
    assert problems[0].message == "role_arn 'SageMakerRole' is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)."
    fixes = {p.subject: p.fix for p in problems}
    assert "'my-bucket'" in fixes["bucket"]
    assert "did you mean 'us-east-1'?" in fixes["region"]
    assert fixes["prefix"] == "Set prefix to 'a/b-c'."
    assert "'ml.m5.large'" in fixes["instance_type"]
    assert str(problems[1]).startswith("bucket: bucket 's3://my-bucket/data' is not a valid S3 bucket name")


def test_one_malformed_setting_keeps_its_message_and_has_one_problem():
    with pytest.raises(SettingsError) as info:
        Settings(role_arn=ROLE, bucket="bkt", region="us-east-1", prefix="/lead")
    assert str(info.value) == "invalid settings: prefix '/lead' must not start or end with '/' or contain '//' or spaces."
    assert [(p.kind, p.steps) for p in info.value.problems] == [("invalid-setting", ("prefix",))]


def test_missing_settings_are_one_problem_each(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings({"region": "us-east-1"}, environ={}, start=tmp_path, pipeline="iris-classifier")
    problems = info.value.problems
    assert [(p.kind, p.steps) for p in problems] == [("missing-setting", ("role_arn",)), ("missing-setting", ("bucket",))]
    assert "pipeline 'iris-classifier'" in problems[0].message
    assert "--role-arn VALUE" in problems[0].fix and "DAGML_ROLE_ARN=VALUE" in problems[0].fix
    assert str(info.value).startswith("missing required settings for pipeline 'iris-classifier': role_arn, bucket.")


def test_unknown_pyproject_settings_are_one_problem_each_with_a_suggestion(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dagml]\nrole = "x"\nbuckit = "y"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(environ={}, start=tmp_path)
    problems = info.value.problems
    assert [(p.kind, p.steps) for p in problems] == [("unknown-setting", ("buckit",)), ("unknown-setting", ("role",))]
    assert "did you mean 'bucket'?" in problems[0].fix and "did you mean 'role_arn'?" in problems[1].fix
    assert "unknown [tool.dagml] setting(s) 'buckit', 'role'; known: role_arn, bucket," in str(info.value)


def test_an_error_about_one_thing_has_no_problems(tmp_path):
    (tmp_path / "pyproject.toml").write_text(f'[tool.dagml]\nrole_arn = "{ROLE}"\nbucket = "b-1"\nregion = "us-east-1"\nbundle_include = "x"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(environ={}, start=tmp_path)
    assert info.value.problems == ()


@pytest.fixture
def settings_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGML_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "settings"


def _no_parsing(monkeypatch):
    from dagml.sagemaker import settings

    monkeypatch.setattr(settings, "_read_toml", lambda path, data: pytest.fail("parsed again"))


def test_a_pyproject_already_parsed_is_not_parsed_again(tmp_path, settings_cache, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(f'[tool.dagml]\nrole_arn = "{ROLE}"\nbucket = "b-1"\nregion = "us-east-1"\n')
    first = load_settings(environ={}, start=project)
    with monkeypatch.context() as patched:
        _no_parsing(patched)
        assert load_settings(environ={}, start=project) == first
    stat = pyproject.stat()
    pyproject.write_text(pyproject.read_text().replace("b-1", "b-2"))  # same size, same mtime put back
    os.utime(pyproject, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_settings(environ={}, start=project).bucket == "b-2"  # keyed by the bytes, not the stat


def test_a_table_json_cannot_hold_is_parsed_each_time_and_an_invalid_file_is_refused_each_time(
    tmp_path, settings_cache, monkeypatch
):
    (tmp_path / "pyproject.toml").write_text(f'[tool.dagml]\nrole_arn = "{ROLE}"\nwhen = 1979-05-27\n')
    for _ in range(2):
        with pytest.raises(SettingsError, match="unknown .tool.dagml. setting.*'when'"):
            load_settings(environ={}, start=tmp_path)
    assert not settings_cache.exists() or not any(settings_cache.iterdir())
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.dagml\n\xff")
    for _ in range(2):
        with pytest.raises(SettingsError, match="cannot read settings from"):
            load_settings(environ={}, start=tmp_path)
