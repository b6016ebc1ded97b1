import subprocess
import sys

HEAVY = ("boto3", "botocore", "sagemaker", "sklearn", "graphviz", "numpy")


def test_import_dagml_and_loading_the_iris_pipeline_import_nothing_heavy():
    code = (
        "import sys, dagml\n"
        "from dagml.spec.target import load_target\n"
        "load_target('examples/iris_pipeline.py').validate()\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(','.join(heavy))\n"
    )
    from .conftest import ROOT

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    from .conftest import ROOT

    script = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return set(result.stderr.strip().splitlines()[-1].split())


#: What declaring a pipeline does not need: the graph layer's networkx and everything above the spec layer.
NOT_FOR_DECLARING = ("networkx", "dagml.graph.build", "dagml.drawing", "dagml.local", "dagml.sagemaker", "dagml.runtime", "sqlite3")


def test_importing_dagml_and_declaring_a_pipeline_import_only_the_spec_layer():
    loaded = _modules_after(
        "import dagml\n"
        "from dagml import Param, Pipeline\n"
        "pipe = Pipeline('light', description='x')\n"
        "n = pipe.param('N', 3)\n"
        "@pipe.step\n"
        "def prepare(N: int) -> list:\n"
        "    return list(range(N))\n"
    )
    assert {"dagml.api", "dagml.spec.pipeline"} <= loaded
    assert sorted(m for m in loaded if m.startswith(NOT_FOR_DECLARING)) == []
    bare = _modules_after("import dagml")
    assert sorted(m for m in bare if m.startswith("dagml") or m in ("attr", "attrs", "networkx")) == ["dagml", "dagml._version"]


def test_every_public_name_resolves_lazily_and_a_typo_is_an_attribute_error():
    import dagml

    assert set(dagml.__all__) <= set(dir(dagml))
    for name in dagml.__all__:
        assert getattr(dagml, name) is not None
    assert dagml.Pipeline is __import__("dagml.api").api.Pipeline
    try:
        dagml.Pipelin  # noqa: B018 - the attribute access is the test
    except AttributeError as exc:
        assert "Pipelin" in str(exc)
    else:
        raise AssertionError("dagml.Pipelin resolved")


def test_version_imports_neither_the_library_nor_argparse():
    loaded = _modules_after("from dagml.cli.main import main\nassert main(['--version']) == 0")
    assert "dagml.cli.main" in loaded
    assert sorted(m for m in loaded if m.startswith(("networkx", "attr", "argparse", "dagml.errors", "dagml.spec", "dagml.graph"))) == []


def test_compile_imports_only_what_compiling_needs():
    loaded = _modules_after(
        "import os, sys, tempfile\n"
        "from dagml.cli.main import main\n"
        "out = os.path.join(tempfile.mkdtemp(), 'iris.json')\n"
        "code = main(['compile', 'examples/iris_pipeline.py', '-o', out, '--role-arn', "
        "'arn:aws:iam::111122223333:role/R', '--bucket', 'light-bucket', '--region', 'us-east-1'])\n"
        "assert code == 0, code\n"
    )
    assert {"networkx", "dagml.sagemaker.compiler", "dagml.runtime.bundle", "dagml.cli.compile"} <= loaded
    others = ("dagml.cli.run", "dagml.cli.render", "dagml.cli.models", "dagml.cli.deploy", "dagml.cli.show")
    unneeded = ("dagml.drawing", "dagml.local", "sqlite3", "dagml.sagemaker.importer", "dagml.sagemaker.aws", *others)
    unneeded += ("dagml.spec.imported",)  # only an imported definition's specs are there
    # The archive is made only on the first compile of this code (the test's own may be that one), and
    # settings parsed only from an unseen pyproject: run it again, as a user would.
    again = _modules_after(
        "import os, sys, tempfile\n"
        "from dagml.cli.main import main\n"
        "out = os.path.join(tempfile.mkdtemp(), 'iris.json')\n"
        "args = ['compile', 'examples/iris_pipeline.py', '-o', out, '--role-arn', "
        "'arn:aws:iam::111122223333:role/R', '--bucket', 'light-bucket', '--region', 'us-east-1']\n"
        "assert main(args) == 0\n"
    )
    assert sorted(m for m in again if m.startswith(("tarfile", "tomllib", "dagml.runtime.bootstrap", "dagml.spec.notebook", "dagml.sagemaker.wheels"))) == []
    assert sorted(m for m in loaded if m.startswith(unneeded)) == []
