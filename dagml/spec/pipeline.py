"""Where steps, params and conditions are declared: :class:`PipelineDeclaration`.

Declaring checks what can be checked locally (argument types, option values)
and raises :class:`~dagml.spec.errors.DeclarationError` at the offending line.
Everything that involves several declarations (wiring, names, cycles,
branches) is checked when the graph is built (:mod:`dagml.graph.build`), which
reports every problem at once. This class only declares: the public
:class:`dagml.Pipeline` (in :mod:`dagml.api`, the layer above everything) adds
``validate()``, ``run()``, ``render()`` and the notebook display on top of it.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from dagml.errors import Problem, did_you_mean
from dagml.spec.conditions import Expr, MetricRef
from dagml.spec.environment import Image, to_image, to_requirements
from dagml.spec.errors import DeclarationError
from dagml.spec.introspect import caller_origin, declared_returns, function_origin, parameters_of
from dagml.spec.jobs import JobSettings, for_companion, resolve, to_job
from dagml.spec.outputs import OUTPUTS_PARAMETER, Output, OutputRef, to_outputs
from dagml.spec.params import Dataset, Param, ParamValue
from dagml.spec.provenance import Provenance
from dagml.spec.specs import (
    FUNCTION_KINDS,
    ConditionSpec,
    ContainerSpec,
    FailSpec,
    FunctionSpec,
    ModelSpec,
    NodeSpec,
    RegisterSpec,
    ScriptSpec,
    StepOptions,
    TransformSpec,
)
from dagml.spec.step import Node, Script, Step

if TYPE_CHECKING:
    from typing_extensions import ParamSpec

    P = ParamSpec("P")
else:
    P = TypeVar("P")

R = TypeVar("R")

__all__ = ["PipelineDeclaration"]

StepLike = Node | str

#: (test, what it is, the fix) for callables a step cannot be: its job calls it once and keeps the result.
_NOT_PLAIN: tuple[tuple[Callable[[Any], bool], str, str], ...] = (
    (inspect.isclass, "a class", "decorate a function that uses the class (def make(): return Model(...))"),
    (
        inspect.iscoroutinefunction,
        "an async function",
        "make it a plain def and run the coroutine inside it with asyncio.run(...)",
    ),
    (
        inspect.isasyncgenfunction,
        "an async generator function",
        "make it a plain def that collects the items and returns them",
    ),
    (
        inspect.isgeneratorfunction,
        "a generator function",
        "return the items instead of yielding them (return list(...))",
    ),
)


def _local_path(dataset: str, local: str | os.PathLike[str] | None) -> str | None:
    """A dataset's local path: a path as given, or the path of a ``file://`` URL."""
    if local is None:
        return None
    text = os.fspath(local)
    if not isinstance(text, str) or not text.startswith("file:"):
        return text
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    url = urlsplit(text)
    if url.netloc not in ("", "localhost"):
        raise DeclarationError(
            f"dataset {dataset!r}: local={text!r} names host {url.netloc!r}; a file URL here is a local file. "
            "Fix: file:///absolute/path or a path relative to the pipeline file."
        )
    return url2pathname(url.path)


def _parallelism(value: object, where: str) -> int | None:
    """``max_parallel_steps``: ParallelismConfiguration.MaxParallelExecutionSteps, a whole number >= 1
    (API reference, ParallelismConfiguration)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DeclarationError(
            f"{where}: max_parallel_steps={value!r} must be a whole number >= 1 (SageMaker's "
            "MaxParallelExecutionSteps). Fix: e.g. max_parallel_steps=4, or leave it unset for no limit."
        )
    return value


def _check_plain_function(fn: Callable[..., Any], name: str) -> None:
    """Refuse, at decoration time, what would only fail once a job calls it."""
    for test, what, fix in _NOT_PLAIN:
        if test(fn):
            raise DeclarationError(
                f"step {name!r}: @pipe.step got {what} ({getattr(fn, '__qualname__', fn)!r}); a step is a plain "
                f"function whose return value is its output, and its job calls it once. Fix: {fix}."
            )


class PipelineDeclaration:
    """Everything declared on one pipeline: its steps, params, datasets and conditions, in order.

    Users create the public subclass, :class:`dagml.Pipeline` (dagml/api.py), which adds
    ``validate()``, ``run()``, ``render()`` and the notebook display; this class only declares.
    """

    def __init__(
        self,
        name: str,
        description: str | None = None,
        *,
        image: Image | str | None = None,
        requirements: Sequence[str] | str | os.PathLike[str] | None = None,
        job: JobSettings | None = None,
        max_parallel_steps: int | None = None,
    ) -> None:
        if not isinstance(name, str):
            raise DeclarationError(f"Pipeline name must be a string, got {name!r}.")
        if description is not None and not isinstance(description, str):
            raise DeclarationError(f"pipeline {name!r}: description must be a string, got {description!r}.")
        self.name = name
        self.description = description
        frame = sys._getframe(1)
        #: The file that declared the pipeline: datasets' local paths are relative to it.
        self.source_file: str | None = frame.f_globals.get("__file__")
        where = f"pipeline {name!r}"
        #: The image of every function step that names none (None: the compile settings' image).
        self.image = to_image(image, where)
        #: Requirements of every function step (a step's own come after them).
        self.requirements = to_requirements(requirements, where, self._base())
        #: The module that declared it (its attribute names the pipeline when the file declares several).
        self.module: str | None = frame.f_globals.get("__name__")
        #: Bumped on every declaration, so a cached graph knows it is stale.
        self.revision = 0
        self._nodes: list[NodeSpec] = []
        self._handles: list[Node] = []
        self._params: list[Param] = []
        self._datasets: list[Dataset] = []
        #: Job settings of every step (dagml.spec.jobs): each step's job= overrides them field by field.
        #: A param in them is declared on this pipeline here (the pipeline did not exist to declare it).
        self.job = to_job(job, where)
        self._params += self.job.params() if self.job is not None else ()
        #: At most this many steps run at once (CreatePipeline's ParallelismConfiguration; not in the definition).
        self.max_parallel_steps = _parallelism(max_parallel_steps, where)
        #: Transform name -> the model step declared for it implicitly.
        self._companions: dict[str, str] = {}
        #: The notebook cells that declared it, in order (dagml.spec.notebook); empty for a file.
        self._cells: list[str] = []
        self._note_cell()

    # ------------------------------------------------------------ inputs
    def param(
        self,
        name: str,
        default: ParamValue,
        *,
        enum: Sequence[ParamValue] | None = None,
        description: str | None = None,
    ) -> Param:
        """Declare a pipeline parameter; its type (String, Integer, Float, Boolean) comes from ``default``."""
        param = Param(name, default, enum=enum, description=description)
        self._params.append(param)
        self._changed()
        return param

    def dataset(
        self,
        name: str,
        *,
        local: str | os.PathLike[str] | None = None,
        s3: str | None = None,
        description: str | None = None,
        input_mode: str = "File",
        distribution: str = "FullyReplicated",
    ) -> Dataset:
        """Declare an input dataset: ``s3`` (a prefix or one object) on SageMaker, ``local`` (a path
        relative to this file, or a ``file://`` URL) locally. ``input_mode`` ("File", "FastFile") and
        ``distribution`` ("FullyReplicated", "ShardedByS3Key") say how SageMaker delivers it."""
        dataset = Dataset(
            name,
            local=_local_path(name, local),
            s3=s3,
            description=description,
            input_mode=input_mode,
            distribution=distribution,
        )
        self._datasets.append(dataset)
        self._changed()
        return dataset

    # ------------------------------------------------------------ steps
    @overload
    def step(self, fn: Callable[P, R], /) -> Step[P, R]: ...

    @overload
    def step(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        kind: str = "processing",
        after: Iterable[StepLike] = (),
        metrics: bool | None = None,
        outputs: Iterable[str | Output] = (),
        instance_type: str | Param | None = None,
        instance_count: int | Param = 1,
        volume_size_gb: int | None = None,
        timeout: int | None = None,
        retry: Any = None,
        cache: Any = None,
        environment: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        display_name: str | None = None,
        description: str | None = None,
        image: Image | str | None = None,
        requirements: Sequence[str] | str | os.PathLike[str] | None = None,
        job: JobSettings | None = None,
    ) -> Callable[[Callable[P, R]], Step[P, R]]: ...

    def step(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Declare a function as a step, bare (``@pipe.step``) or with options.

        The function's parameters are its inputs: one named like a step
        depends on that step's output; one whose default is a param or dataset
        receives its value. ``kind="training"`` makes it a SageMaker Training
        job whose return value is the model. ``after=[...]`` adds
        ordering-only dependencies. ``outputs=["train", "test"]`` gives a
        processing step named outputs, each a directory (dagml.spec.outputs).
        ``job=dagml.JobSettings(...)`` sets its role, network, encryption and spot capacity over the
        pipeline's (dagml.spec.jobs).
        """
        if fn is not None:
            if options:
                raise DeclarationError("use @pipe.step or @pipe.step(option=...), not both")
            return self._declare_function(fn, {})

        def decorator(func: Callable[P, R]) -> Step[P, R]:
            return self._declare_function(func, options)

        return decorator

    def _declare_function(self, fn: Callable[..., Any], options: dict[str, Any]) -> Step[Any, Any]:
        if isinstance(fn, Node):
            raise DeclarationError(f"{fn!r} is already a step; decorate the plain function once.")
        if not callable(fn):
            raise DeclarationError(f"@pipe.step decorates a function, got {fn!r}.")
        name = options.pop("name", None) or getattr(fn, "__name__", None) or repr(fn)
        if not isinstance(name, str):
            raise DeclarationError(f"step name must be a string, got {name!r}.")
        _check_plain_function(fn, name)
        kind = options.pop("kind", "processing")
        if kind not in FUNCTION_KINDS:
            raise DeclarationError(
                f"step {name!r}: kind={kind!r} is not a function step kind; use one of "
                f"{', '.join(map(repr, FUNCTION_KINDS))}. (Models, registration, transforms, "
                "conditions and failures are declared with pipe.model, pipe.register_model, "
                "pipe.batch_transform, pipe.condition and pipe.fail.)"
            )
        after = self._names(options.pop("after", ()), f"step {name!r}: after=")
        metrics = options.pop("metrics", None)
        if metrics not in (None, True, False):
            raise DeclarationError(f"step {name!r}: metrics= takes True or False, got {metrics!r}.")
        if kind == "training" and metrics:
            raise DeclarationError(
                f"step {name!r}: a training step returns its model, not a metrics report. "
                "Fix: compute metrics in a separate processing step."
            )
        outputs = self._outputs(name, kind, metrics, options.pop("outputs", None))
        where = f"step {name!r}"
        image = to_image(options.pop("image", None), where) or self.image
        own = to_requirements(options.pop("requirements", None), where, self._base(fn))
        requirements = tuple(dict.fromkeys((*self.requirements, *own)))
        options["job"] = self._job(options.pop("job", None), kind, where)
        try:
            step_options = StepOptions(**options)
        except TypeError as exc:
            raise DeclarationError(f"step {name!r}: {exc}") from None
        except DeclarationError as exc:
            raise DeclarationError(f"step {name!r}: {exc}") from None
        for value in step_options.params():
            self._own(value, f"step {name!r}")
        parameters = parameters_of(fn, name)
        for p in parameters:
            if isinstance(p.bound, OutputRef):
                self._own_output(p.bound, f"step {name!r}, parameter {p.name!r}")
            elif p.bound is not None:
                self._own(p.bound, f"step {name!r}, parameter {p.name!r}")
            if outputs and p.name == OUTPUTS_PARAMETER and p.bound is not None:
                raise DeclarationError(
                    f"step {name!r}: parameter {OUTPUTS_PARAMETER!r} receives the directories of the step's named "
                    f"outputs, so it cannot also be bound to {p.bound}. Fix: rename the parameter."
                )
        if kind == "training":
            returns: str | None = "model"
        elif outputs:
            returns = "outputs"
        elif metrics is True:
            returns = "metrics"
        elif metrics is False:
            returns = "data"
        else:
            returns = declared_returns(fn)
        code = getattr(fn, "__code__", None)
        if code is not None:
            self._note_cell(code.co_filename)
        spec = FunctionSpec(
            name=name,
            kind=kind,
            fn=fn,
            parameters=parameters,
            after=after,
            options=step_options,
            returns=returns,
            outputs=outputs,
            image=image,
            requirements=requirements,
            origin=function_origin(fn),
        )
        return self._add(Step(spec, self))  # type: ignore[return-value]

    def _base(self, fn: Callable[..., Any] | None = None) -> str | None:
        """The directory relative paths of a declaration start from: the declaring file's."""
        code = getattr(fn, "__code__", None)
        source = (
            code.co_filename if code is not None and os.path.isfile(code.co_filename) else self.source_file
        )
        return os.path.dirname(os.path.abspath(source)) if source else None

    def _outputs(self, name: str, kind: str, metrics: object, value: object) -> tuple[Output, ...]:
        """``outputs=``, checked: a processing step's named outputs, none of them a metrics report."""
        if value is None:
            return ()
        if kind == "training":
            raise DeclarationError(
                f"step {name!r}: outputs= is for processing steps. A training job uploads its model directory "
                "(model.tar.gz) and nothing SageMaker can hand another step by name. Fix: write the files in "
                "a processing step with outputs=[...], or return them with the model."
            )
        if metrics:
            raise DeclarationError(
                f"step {name!r}: a step with named outputs returns them, not a metrics report. "
                "Fix: compute the report in a step of its own, or drop outputs=."
            )
        outputs = to_outputs(name, value)
        for output in outputs:
            if isinstance(output.s3, Param):
                self._own(output.s3, f"step {name!r}, output {output.name!r}")
        return outputs

    def container(
        self,
        name: str,
        *,
        image: Image | str,
        inputs: Mapping[str, Dataset | OutputRef | StepLike] | None = None,
        hyperparameters: Mapping[str, str | int | float | bool | Param] | None = None,
        content_type: str | None = None,
        entrypoint: Sequence[str] | None = None,
        local: str | os.PathLike[str] | None = None,
        after: Iterable[StepLike] = (),
        **options: Any,
    ) -> Node:
        """Run an image with its own entry point as a SageMaker Training job: SageMaker's built-in
        XGBoost, or any training image, unchanged.

        ``inputs`` maps channel names (``/opt/ml/input/data/<channel>``) to a dataset, a step's
        named output (``prep.outputs["train"]``) or a step; ``hyperparameters`` are passed as
        SageMaker passes them, as strings. The job's model directory is the step's output: serve it
        with ``pipe.model``/``pipe.register_model`` (the same image), or read it in a function step
        (its parameter receives the directory). dagml runs no containers locally: ``local=`` names a
        directory that stands in for the model directory in ``dagml run`` (relative to this file);
        without it the step fails locally, saying so, and the steps after it do not run.
        """
        where = f"container {name!r}"
        if not isinstance(name, str):
            raise DeclarationError(f"container step name must be a string, got {name!r}.")
        resolved = to_image(image, where)
        if resolved is None:
            raise DeclarationError(
                f"{where}: image= is required: the image to run, e.g. dagml.Image('xgboost', '1.7-1')."
            )
        channels = self._inputs(where, inputs)
        hyper = self._hyperparameters(where, hyperparameters)
        if entrypoint is not None and (
            isinstance(entrypoint, str) or not all(isinstance(a, str) for a in entrypoint)
        ):
            raise DeclarationError(
                f"{where}: entrypoint={entrypoint!r} must be a list of strings, e.g. ['python3', 'train.py']."
            )
        if content_type is not None and not isinstance(content_type, str):
            raise DeclarationError(
                f"{where}: content_type={content_type!r} must be a MIME type such as 'text/csv'."
            )
        options["job"] = self._job(options.pop("job", None), "container", where)
        try:
            step_options = StepOptions(**options)
        except (TypeError, DeclarationError) as exc:
            raise DeclarationError(f"{where}: {exc}") from None
        for value in step_options.params():
            self._own(value, where)
        stand_in = None
        if local is not None:
            stand_in = os.fspath(local)
            base = self._base()
            if not os.path.isabs(stand_in) and base is not None:
                stand_in = os.path.join(base, stand_in)
        spec = ContainerSpec(
            name=name,
            image=resolved,
            inputs=tuple(channels),
            hyperparameters=tuple(hyper),
            content_type=content_type,
            entrypoint=tuple(entrypoint) if entrypoint is not None else None,
            options=step_options,
            local=stand_in,
            after=self._names(after, f"{where}: after="),
            origin=caller_origin(),
        )
        return self._add(Node(spec, self))

    def script(
        self,
        name: str,
        *,
        path: str | os.PathLike[str],
        kind: str = "processing",
        image: Image | str | None = None,
        inputs: Mapping[str, Dataset | OutputRef | StepLike] | None = None,
        outputs: Iterable[str | Output] = (),
        arguments: Sequence[str | int | float | Param] = (),
        hyperparameters: Mapping[str, str | int | float | bool | Param] | None = None,
        after: Iterable[StepLike] = (),
        **options: Any,
    ) -> Script:
        """Run an existing SageMaker-style script, unchanged, as a Processing or Training step.

        ``path`` (relative to this file) is the script. ``kind="processing"``: it reads
        ``/opt/ml/processing/input/<name>`` for each of ``inputs``, writes each of ``outputs`` to
        ``/opt/ml/processing/output/<name>`` (read downstream as ``step.outputs["name"]``) and gets
        ``arguments`` on its command line. ``kind="training"`` (script mode of the image's training
        toolkit): each input is a channel (``SM_CHANNEL_<NAME>``), ``hyperparameters`` arrive as
        ``--name value`` arguments, and what it writes to ``SM_MODEL_DIR`` is the model, which a
        model step serves and a function step reads as a directory. The image is the step's
        (default: the compile settings' image). Locally it runs in a subprocess with the same folder
        layout (docs/local.md, "Scripts").
        """
        where = f"script {name!r}"
        if not isinstance(name, str):
            raise DeclarationError(f"script step name must be a string, got {name!r}.")
        if kind not in FUNCTION_KINDS:
            raise DeclarationError(f"{where}: kind={kind!r}; a script runs as 'processing' or 'training'.")
        script_path = os.fspath(path)
        base = self._base()
        if not os.path.isabs(script_path) and base is not None:
            script_path = os.path.join(base, script_path)
        if not os.path.isfile(script_path) or not script_path.endswith(".py"):
            raise DeclarationError(
                f"{where}: path={os.fspath(path)!r} is not a Python script (looked for {script_path}). "
                "Fix: give the .py file's path relative to the pipeline file."
            )
        if kind == "training" and (outputs or arguments):
            raise DeclarationError(
                f"{where}: a training script's output is its model directory (SM_MODEL_DIR) and its settings arrive "
                "as hyperparameters; outputs= and arguments= are for kind='processing'. Fix: use hyperparameters={...}."
            )
        if kind == "processing" and hyperparameters:
            raise DeclarationError(
                f"{where}: a processing script takes arguments=[...] on its command line, not hyperparameters. "
                "Fix: pass them as arguments=['--name', value]."
            )
        named = to_outputs(name, list(outputs)) if outputs else ()
        args: list[str | Param] = []
        for item in arguments:
            if isinstance(item, Param):
                self._own(item, f"{where}, arguments")
                args.append(item)
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                args.append(str(item))
            else:
                raise DeclarationError(f"{where}: argument {item!r} must be a string, a number or a param.")
        options["job"] = self._job(options.pop("job", None), kind, where)
        try:
            step_options = StepOptions(**options)
        except (TypeError, DeclarationError) as exc:
            raise DeclarationError(f"{where}: {exc}") from None
        for value in step_options.params():
            self._own(value, where)
        spec = ScriptSpec(
            name=name,
            path=os.path.abspath(script_path),
            mode="training" if kind == "training" else "processing",
            image=to_image(image, where),
            inputs=self._inputs(where, inputs),
            outputs=named,
            arguments=tuple(args),
            hyperparameters=self._hyperparameters(where, hyperparameters),
            options=step_options,
            after=self._names(after, f"{where}: after="),
            origin=caller_origin(),
        )
        return self._add(Script(spec, self))  # type: ignore[return-value]  # _add returns the handle it is given

    def _inputs(
        self, where: str, inputs: Mapping[str, Dataset | OutputRef | StepLike] | None
    ) -> tuple[tuple[str, Dataset | OutputRef | str], ...]:
        """A container's or script's inputs: channel (or input) name -> a dataset, a named output or a step."""
        found: list[tuple[str, Dataset | OutputRef | str]] = []
        for channel, source in (inputs or {}).items():
            if not isinstance(channel, str):
                raise DeclarationError(f"{where}: input names are strings, got {channel!r}.")
            if isinstance(source, Dataset):
                self._own(source, f"{where}, input {channel!r}")
                found.append((channel, source))
            elif isinstance(source, OutputRef):
                self._own_output(source, f"{where}, input {channel!r}")
                found.append((channel, source))
            else:
                found.append((channel, self._name(source, f"{where}, input {channel!r}")))
        return tuple(found)

    def _hyperparameters(
        self, where: str, hyperparameters: Mapping[str, str | int | float | bool | Param] | None
    ) -> tuple[tuple[str, str | Param], ...]:
        """Hyperparameters as SageMaker passes them: strings (booleans as true/false), or params."""
        found: list[tuple[str, str | Param]] = []
        for key, item in (hyperparameters or {}).items():
            if not isinstance(key, str):
                raise DeclarationError(f"{where}: hyperparameter names are strings, got {key!r}.")
            if isinstance(item, Param):
                self._own(item, f"{where}, hyperparameter {key!r}")
                found.append((key, item))
            elif isinstance(item, bool):
                found.append((key, str(item).lower()))
            elif isinstance(item, (str, int, float)):
                found.append((key, str(item)))
            else:
                raise DeclarationError(
                    f"{where}: hyperparameter {key!r}={item!r} must be a string, a number, a boolean or a param "
                    "(SageMaker passes every hyperparameter as a string)."
                )
        return tuple(found)

    def model(
        self,
        name: str,
        *,
        model: StepLike,
        after: Iterable[StepLike] = (),
        description: str | None = None,
        job: JobSettings | None = None,
    ) -> Node:
        """Declare a SageMaker Model (CreateModel) from a training step's artifact.

        ``job=``: the model's role, VPC and network isolation (dagml.spec.jobs)."""
        spec = ModelSpec(
            name=name,
            model=self._name(model, f"model {name!r}: model="),
            after=self._names(after, f"model {name!r}: after="),
            description=description,
            origin=caller_origin(),
            job=self._job(job, "model", f"model {name!r}"),
        )
        return self._add(Node(spec, self))

    def register_model(
        self,
        name: str,
        *,
        model: StepLike,
        group: str | Param,
        approval: str | Param = "PendingManualApproval",
        metrics: StepLike | None = None,
        content_types: Sequence[str] = ("text/csv",),
        response_types: Sequence[str] = ("text/csv",),
        inference_instances: Sequence[str] = ("ml.m5.large",),
        transform_instances: Sequence[str] = ("ml.m5.large",),
        after: Iterable[StepLike] = (),
        description: str | None = None,
    ) -> Node:
        """Register a training step's model as a new version in model package group ``group``."""
        where = f"register_model {name!r}"
        for label, value in (("group", group), ("approval", approval)):
            if isinstance(value, Param):
                self._own(value, where)
            elif not isinstance(value, str):
                raise DeclarationError(f"{where}: {label}={value!r} must be a string or a String param.")
        lists: dict[str, tuple[str, ...]] = {}
        choices: tuple[tuple[str, Sequence[str]], ...] = (
            ("content_types", content_types),
            ("response_types", response_types),
            ("inference_instances", inference_instances),
            ("transform_instances", transform_instances),
        )
        for label, names in choices:
            if isinstance(names, str) or not all(isinstance(v, str) for v in names):
                raise DeclarationError(f"{where}: {label}={names!r} must be a list of strings.")
            lists[label] = tuple(names)
        spec = RegisterSpec(
            name=name,
            model=self._name(model, f"{where}: model="),
            group=group,
            approval=approval,
            metrics=self._name(metrics, f"{where}: metrics=") if metrics is not None else None,
            after=self._names(after, f"{where}: after="),
            description=description,
            origin=caller_origin(),
            **lists,
        )
        return self._add(Node(spec, self))

    def batch_transform(
        self,
        name: str,
        *,
        model: StepLike,
        data: Dataset | OutputRef | StepLike,
        content_type: str = "text/csv",
        split_type: str = "Line",
        instance_type: str | Param | None = None,
        instance_count: int | Param = 1,
        after: Iterable[StepLike] = (),
        **options: Any,
    ) -> Node:
        """Score ``data`` (a dataset, a step's output, or one named output: ``prep.outputs["test"]``)
        with a model in a batch transform job.

        ``model`` is a model step (``pipe.model``) or a training step; for a
        training step dagml declares the model step ``<name>Model`` for you,
        and it joins whichever condition branch the transform is put in.
        ``job=``: the transform's KMS keys; for a model dagml declares, also the
        model's role, VPC and network isolation (dagml.spec.jobs.for_companion).
        """
        where = f"batch_transform {name!r}"
        data_output = None
        if isinstance(data, Dataset):
            self._own(data, where)
            data_name, is_dataset = data.name, True
        elif isinstance(data, OutputRef):
            self._own_output(data, f"{where}: data=")
            data_name, is_dataset, data_output = data.step, False, data.name
        else:
            data_name, is_dataset = self._name(data, f"{where}: data="), False
        companion = isinstance(model, Node) and model.kind in ("training", "container")
        declared = options.pop("job", None)
        model_job, own_job = for_companion(to_job(declared, where)) if companion else (None, declared)
        options["job"] = self._job(own_job, "transform", where)
        try:
            step_options = StepOptions(instance_type=instance_type, instance_count=instance_count, **options)
        except (TypeError, DeclarationError) as exc:
            raise DeclarationError(f"{where}: {exc}") from None
        for value in step_options.params():
            self._own(value, where)
        model_name = self._name(model, f"{where}: model=")
        if companion:
            model_name = self.model(f"{name}Model", model=model, job=model_job).name
            self._companions[name] = model_name
        spec = TransformSpec(
            name=name,
            model=model_name,
            data=data_name,
            data_is_dataset=is_dataset,
            data_output=data_output,
            content_type=content_type,
            split_type=split_type,
            options=step_options,
            after=self._names(after, f"{where}: after="),
            origin=caller_origin(),
        )
        return self._add(Node(spec, self))

    def fail(
        self,
        name: str,
        message: str | Param | MetricRef | Sequence[str | Param | MetricRef] = "",
        *,
        after: Iterable[StepLike] = (),
    ) -> Node:
        """Stop the execution as Failed with ``message``: a string, a param, a metric
        (``evaluate["mse"]``), or a list of them joined in order (``["MSE ", evaluate["mse"], " > ", limit]``).
        """
        parts: tuple[str | Param | MetricRef, ...]
        if isinstance(message, (str, Param, MetricRef)):
            parts = (message,)
        elif isinstance(message, (list, tuple)):
            parts = tuple(message)
        else:
            raise DeclarationError(
                f"fail {name!r}: message={message!r} ({type(message).__name__}) is not a message; it takes a "
                "string, a param, a metric, or a list of them joined in order. "
                f"Fix: pipe.fail({name!r}, {str(message)!r}) or pipe.fail({name!r}, ['text ', param])."
            )
        for part in parts:
            if isinstance(part, Param):
                self._own(part, f"fail {name!r}")
            elif not isinstance(part, (str, MetricRef)):
                raise DeclarationError(
                    f"fail {name!r}: message parts must be strings, params or metrics (step['key']), "
                    f"got {part!r}. Fix: format literals with str() first."
                )
        spec = FailSpec(name=name, message=parts, after=self._names(after, f"fail {name!r}: after="), origin=caller_origin())
        return self._add(Node(spec, self))

    def condition(
        self,
        name: str,
        expression: Expr,
        *,
        then: Iterable[StepLike] = (),
        otherwise: Iterable[StepLike] = (),
        after: Iterable[StepLike] = (),
    ) -> Node:
        """If/else: the steps in ``then`` run only when ``expression`` holds, those in ``otherwise`` only when not."""
        where = f"condition {name!r}"
        if not isinstance(expression, Expr):
            raise DeclarationError(
                f"{where}: expected a condition expression such as evaluate['accuracy'] >= threshold, "
                f"got {expression!r} ({type(expression).__name__}). Fix: compare a metric "
                "(step['key']) or a param; a plain bool cannot decide anything at run time."
            )
        from dagml.spec.conditions import operands

        for operand in operands(expression):
            if isinstance(operand, Param):
                self._own(operand, where)
        then_names = self._with_companions(self._names(then, f"{where}: then="))
        otherwise_names = self._with_companions(self._names(otherwise, f"{where}: otherwise="))
        spec = ConditionSpec(
            name=name,
            expression=expression,
            then=then_names,
            otherwise=otherwise_names,
            after=self._names(after, f"{where}: after="),
            origin=caller_origin(),
        )
        return self._add(Node(spec, self))

    # ------------------------------------------------------------ what the graph layer reads
    #: A declared pipeline is held to every rule (an imported definition only to the service's).
    imported: bool = False
    #: Problems found before the graph is built: none for a declaration (see ImportedDeclarations).
    reading_problems: tuple[Problem, ...] = ()
    #: Top-level definition keys: only an imported definition has them.
    definition_top: None = None

    @property
    def provenance(self) -> Provenance:
        """Where it was declared: the file and, when the file declares several pipelines, the attribute."""
        return Provenance(file=self.source_file, attribute=self._attribute())

    def _attribute(self) -> str | None:
        """The module attribute naming this pipeline when its file declares several, else None.

        A job (or a worker) re-loads the pipeline from its file; with one pipeline in
        the file the file alone names it, with several it needs ``file.py:attr``.
        """
        if self.source_file is None:
            return None
        source = os.path.abspath(self.source_file)
        declared = sys.modules.get(self.module or "")
        modules = [declared] if declared is not None and getattr(declared, "__file__", None) else list(sys.modules.values())
        for module in modules:
            if os.path.abspath(getattr(module, "__file__", "") or "") != source:
                continue
            names = sorted(n for n, v in vars(module).items() if isinstance(v, PipelineDeclaration))
            if len({id(getattr(module, n)) for n in names}) > 1:
                return next((n for n in names if getattr(module, n) is self), None)
        return None

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        """Every declared step spec, in declaration order."""
        return tuple(self._nodes)

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(self._params)

    @property
    def datasets(self) -> tuple[Dataset, ...]:
        return tuple(self._datasets)

    def __getitem__(self, name: str) -> Node:
        """The declared step called ``name``."""
        for handle in self._handles:
            if handle.name == name:
                return handle
        raise KeyError(f"pipeline {self.name!r} has no step {name!r}{did_you_mean(name, (h.name for h in self._handles))}")

    def __repr__(self) -> str:
        return f"<Pipeline {self.name!r}: {len(self._nodes)} steps, {len(self._params)} params>"

    # ------------------------------------------------------------ helpers
    def _with_companions(self, names: tuple[str, ...]) -> tuple[str, ...]:
        result: list[str] = []
        for n in names:
            if n in self._companions and self._companions[n] not in names:
                result.append(self._companions[n])
            result.append(n)
        return tuple(result)

    def _add(self, handle: Node) -> Node:
        self._nodes.append(handle.spec)
        self._handles.append(handle)
        self._changed()
        return handle

    def _redeclare(self, handle: Node, spec: NodeSpec) -> None:
        """Replace a declared step's frozen spec with ``spec`` (the same step with more declared on it:
        an inference handler, dagml.spec.handlers), in the declaration and on its handle."""
        index = next(i for i, declared in enumerate(self._nodes) if declared is handle._spec)
        self._nodes[index] = spec
        handle._spec = spec
        self._changed()

    def _changed(self) -> None:
        self.revision += 1
        self._note_cell()

    def _note_cell(self, filename: str | None = None) -> None:
        """Remember the notebook cell that declared something (the first frame outside dagml), if any."""
        if self.source_file is not None:
            return
        from dagml.spec.notebook import is_cell  # a pipeline declared in a file never needs it

        if filename is None:
            frame = sys._getframe(1)
            while frame.f_back is not None and str(frame.f_globals.get("__name__", "")).startswith("dagml."):
                frame = frame.f_back
            filename = frame.f_code.co_filename
        if filename not in self._cells and is_cell(filename):
            self._cells.append(filename)

    @property
    def cells(self) -> tuple[str, ...]:
        """The notebook cells (IPython's code names) that declared this pipeline, in order; () for a file."""
        return tuple(self._cells)

    def _job(self, value: object, kind: str, where: str) -> JobSettings | None:
        """A step's ``job=``, checked, its params owned, over the pipeline's ``job=`` (dagml.spec.jobs.resolve)."""
        own = to_job(value, where)
        for param in own.params() if own is not None else ():
            self._own(param, where)
        return resolve(self.job, own, kind)

    def _own(self, value: Param | Dataset | Node, where: str) -> None:
        """Refuse params, datasets and steps that belong to another pipeline."""
        if isinstance(value, Node):
            mine = value.pipeline is self
        else:
            pool: Iterable[object] = self._params if isinstance(value, Param) else self._datasets
            mine = any(value is item for item in pool)
        if not mine:
            what = type(value).__name__.lower() if not isinstance(value, Node) else "step"
            raise DeclarationError(
                f"{where}: {what} {value.name!r} was not declared on pipeline {self.name!r}. "
                f"Fix: declare it with pipe.{'param' if isinstance(value, Param) else 'dataset' if isinstance(value, Dataset) else 'step'}"
                f"(...) on this pipeline, not another one."
            )

    def _own_output(self, ref: OutputRef, where: str) -> None:
        """Refuse a named output of a step that another pipeline declared."""
        if not any(
            isinstance(h, (Step, Script)) and h.name == ref.step and any(o.name == ref.name for o in h.spec.outputs)
            for h in self._handles
        ):
            raise DeclarationError(
                f"{where}: {ref} is not an output of a step of pipeline {self.name!r}. "
                "Fix: bind an output of a step declared on this pipeline."
            )

    def _name(self, value: object, where: str) -> str:
        if isinstance(value, Node):
            self._own(value, where)
            return value.name
        if isinstance(value, str):
            return value
        raise DeclarationError(f"{where}{value!r} is not a step; pass a step (or its name as a string).")

    def _names(self, values: Iterable[StepLike] | StepLike, where: str) -> tuple[str, ...]:
        if isinstance(values, (str, Node)):
            values = [values]
        try:
            items = list(values)
        except TypeError:
            raise DeclarationError(f"{where}{values!r} must be a list of steps.") from None
        return tuple(self._name(v, where) for v in items)
