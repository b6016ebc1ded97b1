"""A pipeline whose processing or training step raises, chosen by the FailIn param (the container bed)."""

from dagml import Pipeline

pipe = Pipeline("failing")
fail_in = pipe.param("FailIn", "none", enum=["none", "processing", "training"])


@pipe.step
def prepare(fail_in: str = fail_in) -> list:
    if fail_in == "processing":
        raise ValueError("the input table has no rows")
    return [[1.0, 2.0], [3.0, 4.0]]


@pipe.step(kind="training")
def fit(prepare: list, fail_in: str = fail_in) -> object:
    if fail_in == "training":
        raise RuntimeError("the solver did not converge after 100 iterations")
    return len(prepare)
