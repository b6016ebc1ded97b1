from dagml import Pipeline
from dagml.graph.wiring import CONSTANT, DATASET, PARAM, STEP, UNBOUND, Binding, wire


def test_the_wiring_rule_in_order_of_precedence():
    pipe = Pipeline("p")
    n = pipe.param("N", 3)
    d = pipe.dataset("D", local="x.csv")

    @pipe.step
    def prepare(data=d):
        pass

    @pipe.step
    def train(prepare, n=n, seed=7, missing=None, unbound_one=None):
        pass

    @pipe.step
    def shadow(prepare=n):  # an explicit param binding wins over a step name
        pass

    steps = {"prepare", "train", "shadow"}
    assert wire(prepare.spec, steps) == (Binding("data", DATASET, "D"),)
    assert wire(train.spec, steps) == (
        Binding("prepare", STEP, "prepare"),
        Binding("n", PARAM, "N"),
        Binding("seed", CONSTANT),
        Binding("missing", CONSTANT),
        Binding("unbound_one", CONSTANT),
    )
    assert wire(shadow.spec, steps) == (Binding("prepare", PARAM, "N"),)


def test_a_parameter_without_default_naming_no_step_is_unbound():
    pipe = Pipeline("p")

    @pipe.step
    def train(prepare):
        pass

    assert wire(train.spec, set()) == (Binding("prepare", UNBOUND),)
