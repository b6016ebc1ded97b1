import pytest

from dagml.errors import ConfigurationError, DagmlError
from dagml.sagemaker import errors

BUILTIN = {
    errors.SettingsError: ValueError,
    errors.ImageError: ValueError,
    errors.CompileError: ValueError,
    errors.DefinitionError: ValueError,
    errors.ParameterError: ValueError,
    errors.AwsError: RuntimeError,
    errors.AccessDeniedError: PermissionError,
    errors.ThrottledError: RuntimeError,
    errors.NotFoundError: LookupError,
    errors.AwsConfigurationError: ValueError,
    errors.MissingBucketError: ValueError,
}


def test_every_sagemaker_error_is_listed_here():
    assert {getattr(errors, name) for name in errors.__all__} == set(BUILTIN)


@pytest.mark.parametrize("cls, builtin", sorted(BUILTIN.items(), key=lambda item: item[0].__name__))
def test_errors_derive_from_dagml_error_and_the_matching_builtin(cls, builtin):
    assert issubclass(cls, DagmlError) and issubclass(cls, builtin)
    assert cls.__module__ == "dagml.sagemaker.errors"


@pytest.mark.parametrize(
    "module, name",
    [
        ("dagml.sagemaker", "SettingsError"),
        ("dagml.sagemaker", "CompileError"),
        ("dagml.sagemaker.settings", "SettingsError"),
        ("dagml.sagemaker.images", "ImageError"),
        ("dagml.sagemaker.steps", "CompileError"),
        ("dagml.sagemaker.importer", "DefinitionError"),
        ("dagml.sagemaker.deploy", "ParameterError"),
        ("dagml.sagemaker.aws", "AwsError"),
        ("dagml.sagemaker.aws", "AccessDeniedError"),
        ("dagml.sagemaker.aws", "ThrottledError"),
        ("dagml.sagemaker.aws", "NotFoundError"),
        ("dagml.sagemaker.aws", "AwsConfigurationError"),
        ("dagml.sagemaker.aws", "MissingBucketError"),
    ],
)
def test_the_modules_that_raise_them_still_export_them(module, name):
    import importlib

    mod = importlib.import_module(module)
    assert getattr(mod, name) is getattr(errors, name)
    assert name in mod.__all__


def test_configuration_errors_are_usage_errors():
    for cls in (errors.SettingsError, errors.ParameterError, errors.AwsConfigurationError, errors.MissingBucketError):
        assert issubclass(cls, ConfigurationError)


def test_errors_keep_their_fields():
    aws = errors.AccessDeniedError("denied", "AccessDenied", "s3:PutObject")
    assert (str(aws), aws.code, aws.action) == ("denied", "AccessDenied", "s3:PutObject")
    definition = errors.DefinitionError("f.json", "$.Steps[0]", "bad\x1b.", "fix it.")
    assert (definition.source, definition.path, definition.fix) == ("f.json", "$.Steps[0]", "fix it.")
    assert str(definition) == "f.json: $.Steps[0]: bad\\x1b. Fix: fix it."
    assert errors.SettingsError("one thing").problems == ()
