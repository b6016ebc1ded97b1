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
