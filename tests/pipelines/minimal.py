"""The smallest pipeline: one processing step."""

from dagml import Pipeline

pipe = Pipeline("minimal")


@pipe.step
def hello() -> None:
    print("hello")
