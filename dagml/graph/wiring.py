"""The wiring rule: how a step function's parameters become its inputs.

This is the one place that decides it; the graph builder, the local runner and
the compiler all go through :func:`wire`.
"""

from __future__ import annotations

from collections.abc import Container

import attrs

from dagml.spec.outputs import OUTPUTS_PARAMETER, OutputRef
from dagml.spec.params import Dataset, Param
from dagml.spec.specs import ContainerSpec, FunctionSpec, ScriptSpec

__all__ = ["Binding", "wire", "wire_container"]

#: Where a function parameter's value comes from.
STEP, PARAM, DATASET, CONSTANT, UNBOUND = "step", "param", "dataset", "constant", "unbound"
#: One named output of a step (``ref`` the step, ``output`` the name); the step's own output directories.
OUTPUT, OUTPUT_DIRS = "output", "output-dirs"


@attrs.frozen
class Binding:
    """Parameter ``parameter`` of a step function receives ``source`` ``ref``."""

    parameter: str
    source: str
    ref: str | None = None
    #: The named output read (source OUTPUT).
    output: str | None = None


def wire(spec: FunctionSpec, steps: Container[str]) -> tuple[Binding, ...]:
    """Bind each parameter of a step function, by this rule, in this order:

    0. in a step with named outputs, the parameter ``outputs`` receives their
       directories (a mapping of name to ``pathlib.Path``);
    1. a default that is a pipeline param, a dataset or a step's named output
       binds that value (``def train(prepare, n_estimators=trees)``,
       ``def fit(train=preprocess.outputs["train"])``);
    2. otherwise, a parameter named like a step depends on that step and
       receives its output (``def train(prepare)``);
    3. otherwise, a parameter with a plain default keeps it (a constant);
    4. otherwise the parameter is unbound, which validation reports.

    Ordering-only dependencies are not parameters: they come from ``after=``.
    """
    bindings = []
    for p in spec.parameters:
        bound = p.bound
        if spec.outputs and p.name == OUTPUTS_PARAMETER:
            bindings.append(Binding(p.name, OUTPUT_DIRS))
        elif isinstance(bound, OutputRef):
            bindings.append(Binding(p.name, OUTPUT, bound.step, bound.name))
        elif isinstance(bound, Param):
            bindings.append(Binding(p.name, PARAM, bound.name))
        elif isinstance(bound, Dataset):
            bindings.append(Binding(p.name, DATASET, bound.name))
        elif p.name in steps:
            bindings.append(Binding(p.name, STEP, p.name))
        elif p.has_default:
            bindings.append(Binding(p.name, CONSTANT))
        else:
            bindings.append(Binding(p.name, UNBOUND))
    return tuple(bindings)


def wire_container(spec: ContainerSpec | ScriptSpec) -> tuple[Binding, ...]:
    """A container's or script's inputs as bindings (``parameter`` is the input's name): each
    input is declared explicitly (``inputs={"train": prep.outputs["train"]}``), so there is no rule
    to apply, only the same shape the compiler and the local runner read for function steps."""
    bindings = []
    for channel, source in spec.inputs:
        if isinstance(source, OutputRef):
            bindings.append(Binding(channel, OUTPUT, source.step, source.name))
        elif isinstance(source, Dataset):
            bindings.append(Binding(channel, DATASET, source.name))
        else:
            bindings.append(Binding(channel, STEP, source))
    return tuple(bindings)
