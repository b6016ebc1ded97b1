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
