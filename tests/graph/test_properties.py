"""Property tests over random pipelines (strategies in tests/strategies.py)."""

from hypothesis import given, settings

from dagml import PipelineValidationError
from tests.strategies import broken_programs, build, programs


@given(programs(max_steps=60))
def test_valid_programs_validate_and_the_order_respects_every_edge(program):
    g = build(program).validate()
    assert set(g.order) == {s.final_name for s in program.steps} | {c.name for c in program.conditions}
    position = {name: i for i, name in enumerate(g.order)}
    for source, target in program.edges():
        assert position[source] < position[target], (source, target)
    flat = [n for gen in g.generations for n in gen]
    assert sorted(flat) == sorted(g.order)
    generation = {n: i for i, gen in enumerate(g.generations) for n in gen}
    for source, target in program.edges():
        assert generation[source] < generation[target]


@settings(max_examples=5)
@given(programs(max_steps=300, max_conditions=5))
def test_a_few_hundred_steps_validate(program):
    assert len(build(program).validate()) == len(program.steps) + len(program.conditions)


@given(programs(max_steps=40))
def test_validation_is_deterministic(program):
    a, b = build(program).validate(), build(program).validate()
    assert a.order == b.order and a.generations == b.generations and a.edges() == b.edges()


@given(broken_programs())
def test_broken_programs_report_exactly_the_injected_fault(case):
    program, fault = case
    try:
        build(program).validate()
    except PipelineValidationError as exc:
        assert [p.kind for p in exc.problems] == [fault.kind], [str(p) for p in exc.problems]
        assert fault.steps <= set(exc.problems[0].steps), (fault, exc.problems[0])
    else:
        raise AssertionError(f"{fault} was not reported")
