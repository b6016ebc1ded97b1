"""Every validation rule, each with a pipeline that breaks exactly it."""

import warnings

import networkx as nx
import pytest

from dagml import DagmlWarning, Pipeline, PipelineValidationError
from dagml.graph.model import AFTER, DATA, OTHERWISE, THEN


def problems_of(pipe):
    with pytest.raises(PipelineValidationError) as info:
        pipe.validate()
    return info.value.problems


def only(pipe, kind):
    found = problems_of(pipe)
    assert [p.kind for p in found] == [kind], [str(p) for p in found]
    return found[0]


def gated_pipeline():
    pipe = Pipeline("gated")
    t = pipe.param("T", 0.9)

    @pipe.step
    def prepare(limit=t):
        return 1

    @pipe.step(kind="training")
    def train(prepare):
        return 2

    @pipe.step
    def evaluate(train, prepare):
        return {"accuracy": 0.97}

    return pipe, t, prepare, train, evaluate


def test_valid_pipeline_graph_has_edges_with_reasons_and_order():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    reg = pipe.register_model("Register", model=train, group="G", metrics=evaluate, after=[prepare])
    fail = pipe.fail("TooLow", ["low ", t])
    pipe.condition("Check", evaluate["accuracy"] >= t, then=[reg], otherwise=[fail])
    with pytest.warns(DagmlWarning, match="model-quality format"):  # it registers a flat report
        g = pipe.validate()
    assert g.order == ("prepare", "train", "evaluate", "Check", "Register", "TooLow")
    assert g.generations == (("prepare",), ("train",), ("evaluate",), ("Check",), ("Register", "TooLow"))
    kinds = {(e.source, e.target, e.kind) for e in g.edges()}
    assert ("prepare", "train", DATA) in kinds and ("prepare", "Register", AFTER) in kinds
    assert ("Check", "Register", THEN) in kinds and ("Check", "TooLow", OTHERWISE) in kinds
    assert ("evaluate", "Check", DATA) in kinds and ("evaluate", "Register", DATA) in kinds
    assert g.branch_of == {"Register": ("Check", "then"), "TooLow": ("Check", "otherwise")}
    assert g.upstream("evaluate") == ("prepare", "train")
    assert g.downstream("prepare") == ("Register", "evaluate", "train")
    assert g.describe_condition("Check") == "evaluate.accuracy >= T (0.9)"
    assert g.bindings["evaluate"][0].source == "step"


def test_validated_graph_is_immutable():
    pipe, *_ = gated_pipeline()
    g = pipe.validate()
    with pytest.raises(nx.NetworkXError):
        g.graph.add_edge("a", "b")
    with pytest.raises(TypeError):
        g.nodes["x"] = None  # type: ignore[index]
    with pytest.raises(AttributeError):
        g.name = "other"  # type: ignore[misc]


def test_validate_is_cached_until_the_pipeline_changes():
    pipe, *_ = gated_pipeline()
    first = pipe.validate()
    assert pipe.validate() is first

    @pipe.step
    def extra(prepare):
        pass

    assert pipe.validate() is not first and "extra" in pipe.validate()


def test_cycle_is_shown_as_its_path_with_why_each_edge_exists():
    pipe = Pipeline("cyclic")

    @pipe.step(after=["train"])
    def prepare():
        pass

    @pipe.step(kind="training")
    def train(prepare):
        pass

    p = only(pipe, "cycle")
    assert p.steps == ("prepare", "train")
    assert "prepare -> train -> prepare" in p.message
    assert "train reads prepare (parameter 'prepare')" in p.message
    assert "prepare runs after=train" in p.message


def test_self_dependency_is_a_cycle():
    pipe = Pipeline("selfish")

    @pipe.step
    def loop(loop):
        pass

    assert "loop -> loop" in only(pipe, "cycle").message


def test_two_separate_cycles_are_both_reported():
    pipe = Pipeline("two-cycles")

    @pipe.step
    def a(b):
        pass

    @pipe.step
    def b(a):
        pass

    @pipe.step
    def c(d):
        pass

    @pipe.step
    def d(c):
        pass

    found = problems_of(pipe)
    assert [p.kind for p in found] == ["cycle", "cycle"]
    assert {p.steps for p in found} == {("a", "b"), ("c", "d")}


def test_unbound_input_suggests_the_step_it_probably_means():
    pipe = Pipeline("typo")

    @pipe.step
    def prepare():
        pass

    @pipe.step
    def train(prepar):
        pass

    p = only(pipe, "unbound-input")
    assert p.steps == ("train", "prepar")
    assert "did you mean 'prepare'?" in p.message


def test_unbound_input_like_a_param_suggests_binding_it():
    pipe = Pipeline("bind")
    n = pipe.param("NEstimators", 10)

    @pipe.step
    def train(n_estimators, other=n):
        pass

    assert "Bind the pipeline param" in only(pipe, "unbound-input").fix


def test_after_naming_no_step_suggests_one():
    pipe = Pipeline("after")

    @pipe.step
    def prepare():
        pass

    @pipe.step(after=["prepair"])
    def train():
        pass

    p = only(pipe, "unknown-step")
    assert p.steps == ("train", "prepair") and "did you mean 'prepare'?" in p.message


def test_duplicate_step_names_are_reported_with_where_they_were_declared():
    pipe = Pipeline("dup")

    @pipe.step
    def prepare():
        pass

    @pipe.step(name="prepare")
    def again():
        pass

    p = only(pipe, "duplicate-step")
    assert p.steps == ("prepare",) and "test_build.py" in p.message


def test_duplicate_param_and_dataset_names():
    pipe = Pipeline("dup")
    a = pipe.param("X", 1)
    b = pipe.dataset("X", local="x")

    @pipe.step
    def s(a=a, b=b):
        pass

    assert only(pipe, "duplicate-param").steps == ("X",)


def test_names_sagemaker_rejects_get_a_suggestion_and_are_never_renamed():
    pipe = Pipeline("my_pipeline")
    p1 = pipe.param("bad param", 1)

    @pipe.step(name="prepare data")
    def prepare(x=p1):
        pass

    found = problems_of(pipe)
    assert [p.kind for p in found] == ["invalid-name"] * 3
    text = "\n".join(map(str, found))
    assert "Pipeline('my-pipeline')" in text and "name='prepare_data'" in text and "'bad_param'" in text
    assert pipe.name == "my_pipeline" and pipe.nodes[0].name == "prepare data"


def test_step_in_both_branches_of_a_condition():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    fail = pipe.fail("F")
    pipe.condition("C", evaluate["accuracy"] >= t, then=[fail], otherwise=[fail])
    p = only(pipe, "branch-conflict")
    assert p.steps == ("F", "C") and "Duplicate the step" in p.fix


def test_step_in_two_conditions():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    fail = pipe.fail("F")
    pipe.condition("C1", evaluate["accuracy"] >= t, then=[fail])
    pipe.condition("C2", evaluate["accuracy"] < 0.1, then=[fail])
    assert only(pipe, "branch-conflict").steps == ("F", "C1", "C2")


def test_condition_reading_metrics_of_a_step_without_a_report():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.condition("C", (prepare["rows"] > 3) & (train["loss"] < 1), then=[pipe.fail("F")])
    found = problems_of(pipe)
    assert [p.kind for p in found] == ["not-metrics", "not-metrics"]
    assert {p.steps for p in found} == {("C", "prepare"), ("C", "train")}
    assert any("metrics=True" in p.fix for p in found)


def test_condition_reading_a_metric_the_step_does_not_return():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.condition("C", evaluate["acuracy"] >= t, then=[pipe.fail("F")])
    p = only(pipe, "unknown-metric")
    assert "did you mean 'accuracy'?" in p.message


def test_a_step_outside_a_branch_may_depend_on_a_branch_step():
    pipe, t, prepare, train, evaluate = gated_pipeline()

    @pipe.step
    def report(evaluate):
        pass

    @pipe.step
    def publish(report):
        pass

    pipe.condition("C", evaluate["accuracy"] >= t, then=[report])
    g = pipe.validate()
    assert "publish" not in g.branch_of and g.upstream("publish") == ("report",)


def test_a_step_needing_both_branches_of_a_condition_never_runs():
    pipe, t, prepare, train, evaluate = gated_pipeline()

    @pipe.step
    def good(evaluate):
        pass

    @pipe.step
    def bad(evaluate):
        pass

    @pipe.step
    def summarize(good):
        pass

    @pipe.step
    def merge(summarize, bad):
        pass

    pipe.condition("C", evaluate["accuracy"] >= t, then=[good], otherwise=[bad])
    p = only(pipe, "never-runs")
    assert p.steps == ("merge", "C")
    assert "'good' (then branch of 'C') and 'bad' (otherwise branch)" in p.message


def test_after_a_condition_step_is_refused():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.condition("C", evaluate["accuracy"] >= t, then=[pipe.fail("F")])

    @pipe.step(after=["C"])
    def later(prepare):
        pass

    assert only(pipe, "after-condition").steps == ("later", "C")


def test_steps_of_one_branch_may_depend_on_each_other():
    pipe, t, prepare, train, evaluate = gated_pipeline()

    @pipe.step
    def report(evaluate):
        pass

    @pipe.step
    def publish(report):
        pass

    pipe.condition("C", evaluate["accuracy"] >= t, then=[report, publish])
    assert pipe.validate().branch_of["publish"] == ("C", "then")


def test_nested_conditions_are_a_condition_in_a_branch():
    """The service runs nested conditions (apache/airflow's system test nests 31); so does dagml."""
    pipe, t, prepare, train, evaluate = gated_pipeline()
    fail = pipe.fail("F")
    inner = pipe.condition("Inner", evaluate["accuracy"] > 0.99, then=[fail])
    pipe.condition("Outer", evaluate["accuracy"] >= t, then=[inner])
    g = pipe.validate()
    assert g.branch_of == {"Inner": ("Outer", "then"), "F": ("Inner", "then")}
    assert g.enclosing("F") == (("Outer", "then"), ("Inner", "then"))
    assert g.enclosing("Inner") == (("Outer", "then"),)
    assert g.enclosing("evaluate") == ()


def test_a_step_needing_both_sides_of_an_enclosing_condition_never_runs():
    """A nested branch runs only under its enclosing branch too, so the never-runs rule sees through it."""
    pipe, t, prepare, train, evaluate = gated_pipeline()

    @pipe.step
    def deep(evaluate):
        return 1

    @pipe.step
    def other(evaluate):
        return 1

    @pipe.step
    def both(deep, other):
        return 1

    inner = pipe.condition("Inner", evaluate["accuracy"] > 0.99, then=[deep])
    pipe.condition("Outer", evaluate["accuracy"] >= t, then=[inner], otherwise=[other])
    p = only(pipe, "never-runs")
    assert p.steps == ("both", "Outer")
    assert "'Inner' (then branch of 'Outer') and 'other' (otherwise branch)" in p.message


def test_an_empty_condition_is_a_warning():
    """The service runs a condition with no branch steps (the SDK's test_two_step_fail_pipeline_with_join_fn)."""
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.condition("C", evaluate["accuracy"] >= t)
    with pytest.warns(DagmlWarning, match="decides nothing"):
        g = pipe.validate()
    assert [(w.kind, w.steps) for w in g.warnings] == [("empty-condition", ("C",))]


def test_a_condition_after_a_fail_step_is_refused():
    """The service refuses it: "CondStep can not depends on FailStep" (test_invalid_pipeline_depended_on_fail_step)."""
    pipe, t, prepare, train, evaluate = gated_pipeline()
    fail = pipe.fail("F")
    pipe.condition("C", evaluate["accuracy"] >= t, then=[pipe.fail("G")], after=[fail])
    found = problems_of(pipe)
    assert [(p.kind, p.steps) for p in found] == [("after-fail", ("C", "F"))]


def test_strings_order_by_code_point_in_a_dagml_condition():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    mode = pipe.param("Mode", "b")
    pipe.condition("C", mode > "a", then=[pipe.fail("F")])

    @pipe.step
    def use(m=mode, limit=t):
        pass

    assert pipe.validate().describe_condition("C") == "Mode ('b') > 'a'"


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda e, s, n: e["accuracy"] > s, "orders a number and a string"),
        (lambda e, s, n: s == 3, "compares a string with a number"),
        (lambda e, s, n: e["accuracy"] == "high", "compares a number with a string"),
        (lambda e, s, n: s.isin([1, "a"]), "checks a string against 1"),
        (lambda e, s, n: n > e["accuracy"], "orders a boolean and a number"),
    ],
)
def test_comparisons_between_incompatible_types(make, fragment):
    from dagml.spec.conditions import eq

    pipe, t, prepare, train, evaluate = gated_pipeline()
    s = pipe.param("Mode", "fast")
    n = pipe.param("Flag", True)
    expr = make(evaluate, s, n) if fragment != "compares a string with a number" else eq(s, 3)

    @pipe.step
    def use(a=s, b=n, c=t):
        pass

    pipe.condition("C", expr, then=[pipe.fail("F")])
    p = only(pipe, "condition-type")
    assert fragment in p.message


def test_register_and_model_arguments_must_name_the_right_kinds():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.register_model("R", model=prepare, group="G", metrics=train, approval="Maybe")
    pipe.model("M", model="evaluate")
    found = problems_of(pipe)
    assert sorted(p.kind for p in found) == ["invalid-option", "not-metrics", "wrong-kind", "wrong-kind"]


def test_transform_reads_a_model_step_and_a_data_step():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    fail = pipe.fail("F")
    pipe.batch_transform("T1", model="train", data=prepare)
    pipe.batch_transform("T2", model=pipe.model("M", model=train), data=fail)
    pipe.condition("C", evaluate["accuracy"] >= t, otherwise=[fail])
    found = problems_of(pipe)
    assert sorted((p.kind, p.steps[0]) for p in found) == [("not-data", "T2"), ("wrong-kind", "T1")]


def test_reading_the_output_of_a_step_without_data():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.model("Model", model=train)

    @pipe.step
    def deploy(Model):
        pass

    p = only(pipe, "not-data")
    assert "after=['Model']" in p.fix


def test_instance_options_must_be_sagemaker_shaped():
    pipe = Pipeline("opts")
    count = pipe.param("Count", 1.5)
    itype = pipe.param("Type", 4)

    @pipe.step(instance_type="m5.large")
    def a():
        pass

    @pipe.step(instance_type=itype, instance_count=count, display_name="Step B")
    def b():
        pass

    found = problems_of(pipe)
    assert [p.kind for p in found] == ["invalid-option"] * 4
    assert any("display_name='Step_B'" in p.fix for p in found)
    assert "ml.m5.large" in found[0].fix


def test_group_name_sagemaker_rejects():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.register_model("R", model=train, group="Sklearn_Iris")
    assert "group='Sklearn-Iris'" in only(pipe, "invalid-name").fix


def test_every_problem_is_reported_at_once_sorted_by_step():
    pipe = Pipeline("many_problems")

    @pipe.step(after=["nope"])
    def zeta(missing):
        pass

    @pipe.step
    def alpha(alpha):
        pass

    found = problems_of(pipe)
    assert [p.subject for p in found] == sorted(p.subject for p in found)
    assert {p.kind for p in found} == {"invalid-name", "unknown-step", "unbound-input", "cycle"}


def test_unused_params_and_top_level_fail_are_warnings_not_errors():
    pipe = Pipeline("warn")
    pipe.param("Unused", 1)
    pipe.dataset("Data", local="x.csv")
    pipe.fail("Stop")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = pipe.validate()
    assert {w.kind for w in g.warnings} == {"unused-param", "unused-dataset", "unconditional-fail"}
    assert all(issubclass(c.category, DagmlWarning) for c in caught) and len(caught) == 3


def test_constant_condition_is_a_warning():
    pipe, t, prepare, train, evaluate = gated_pipeline()
    from dagml.spec.conditions import gt

    @pipe.step
    def uses(x=t):
        pass

    pipe.condition("C", gt(1, 2), after=[evaluate], then=[pipe.fail("F")])
    with pytest.warns(DagmlWarning, match="only literals"):
        pipe.validate()


def test_a_pipeline_without_steps_is_invalid():
    assert only(Pipeline("nothing"), "empty-pipeline").message.startswith("pipeline 'nothing' has no steps")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_in_a_condition_or_a_param_are_problems(bad):
    pipe, t, prepare, train, evaluate = gated_pipeline()
    pipe.condition("Check", evaluate["accuracy"] >= bad, then=[pipe.fail("Low", "low")])
    pipe.condition("Among", evaluate["accuracy"].isin([0.5, bad]), then=[pipe.fail("Odd", "odd")])
    wild = pipe.param("Wild", bad)
    picky = pipe.param("Picky", 0.5, enum=[0.5, bad])

    @pipe.step
    def uses(w=wild, p=picky):
        pass

    with pytest.raises(PipelineValidationError) as info:
        pipe.validate()
    assert "pipeline 'gated' is invalid" in str(info.value)
    found = [p for p in info.value.problems if p.kind == "non-finite"]
    assert [p.subject for p in found] == ["Among", "Check", "Picky", "Wild"]
    assert all(repr(bad) in p.message and p.fix for p in found)
    assert "evaluate.accuracy >=" in found[1].message and "Fix: Give it a finite default" in str(found[3])


def test_a_step_as_a_default_value_is_a_problem_not_a_silent_constant():
    pipe = Pipeline("defaults")

    @pipe.step
    def a():
        return 1

    @pipe.step
    def b(x=a):
        return x

    problem = only(pipe, "step-default")
    assert problem.steps == ("b", "a")
    assert "parameter 'x' has step 'a' as its default" in problem.message
    assert "does not make a dependency" in problem.message
    assert "def b(a)" in problem.fix and "after=['a']" in problem.fix


# ---------------------------------------------------------------- nested reports: paths and the model-quality format
def quality_pipeline():
    pipe = Pipeline("quality")
    limit = pipe.param("Limit", 0.5)

    @pipe.step(kind="training")
    def train():
        return 1

    @pipe.step
    def evaluate(train):
        return {
            "regression_metrics": {"mse": {"value": 0.3, "standard_deviation": 0.01}, "r2": {"value": 0.8}},
            "details": summarise(train),  # not a literal dict: what is inside only the run knows
        }

    return pipe, limit, train, evaluate


def summarise(model):
    return {"rows": 1}


def test_a_misspelled_nested_path_gets_did_you_mean():
    pipe, limit, train, evaluate = quality_pipeline()
    pipe.condition("Gate", evaluate["regression_metrics"]["mes"]["value"] <= limit, then=[pipe.fail("F", "x")])
    p = only(pipe, "unknown-metric")
    assert p.steps == ("Gate", "evaluate")
    assert "reads metric 'regression_metrics.mes.value'" in p.message
    assert "(did you mean 'regression_metrics.mse.value'?)" in p.message


def test_a_path_ending_at_an_object_names_the_number_below_it():
    pipe, limit, train, evaluate = quality_pipeline()
    pipe.fail("F", ["MSE ", evaluate["regression_metrics.mse"]])
    p = only(pipe, "unknown-metric")
    assert "an object in its report, not a number (did you mean 'regression_metrics.mse.value'?)" in p.message
    assert p.fix == "Read a number below it, e.g. evaluate['regression_metrics.mse.value']."


def test_known_nested_paths_and_paths_inside_a_computed_value_are_valid():
    pipe, limit, train, evaluate = quality_pipeline()
    gate = (evaluate["regression_metrics"]["mse"]["value"] <= limit) & (evaluate["details"]["rows"] > 0)
    register = pipe.register_model("Register", model=train, group="G", metrics=evaluate)
    pipe.condition("Gate", gate, then=[register])
    graph = pipe.validate()  # in SageMaker's model-quality format: no warning (warnings are errors here)
    assert graph.warnings == () and "evaluate" in graph.reports_read


def flat_report(train):
    return {"accuracy": 0.97}


def misspelled_field(train):
    return {"regression_metrics": {"mse": {"val": 0.3}}}


@pytest.mark.parametrize(
    "fn, key, says",
    [
        (flat_report, "accuracy", "it has no top-level 'regression_metrics' or 'binary_classification_metrics'"),
        (misspelled_field, "regression_metrics.mse.val", "'regression_metrics.mse' has no 'value' (and 1 more)"),
    ],
)
def test_registering_a_report_studio_cannot_show_is_a_warning_saying_the_format(fn, key, says):
    pipe = Pipeline("flat")

    @pipe.step(kind="training")
    def train():
        return 1

    evaluate = pipe.step(name="evaluate")(fn)  # a report because the gate reads its dict literal
    register = pipe.register_model("Register", model=train, group="G", metrics=evaluate)
    pipe.condition("Gate", evaluate[key] > 0.5, then=[register])
    with pytest.warns(DagmlWarning, match="not in SageMaker's model-quality format"):
        graph = pipe.validate()
    (warning,) = graph.warnings
    assert (warning.kind, warning.steps, warning.severity) == ("model-quality", ("Register", "evaluate"), "warning")
    assert says in warning.message
    assert '{"regression_metrics": {"mse": {"value": ' in warning.fix and "dagml.model_quality(" in warning.fix
