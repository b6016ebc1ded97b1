"""Play SageMaker's control plane from a compiled pipeline definition alone.

:func:`execute` walks the definition as the Pipelines service would: a step
starts when every step it references (``Get: Steps.X...``, a property file,
``DependsOn``) has succeeded; a Condition evaluates its ``Conditions`` on the
resolved values and executes its ``IfSteps`` or its ``ElseSteps``; the first
failure stops new steps from starting and fails the execution. Each job is laid
out from the step's ``Arguments`` the way the service lays out the request it
sends (CreateProcessingJob, CreateTrainingJob, CreateModel, CreateModelPackage,
CreateTransformJob) and run in the container of the image the step names
(``AppSpecification.ImageUri``, ``AlgorithmSpecification.TrainingImage``, the
model container's ``Image``; :meth:`ControlPlane.image_env`).

The service's own behaviour followed here, by job type:

- Processing: each ``S3Input`` is copied to its ``LocalPath`` (``S3Prefix``);
  the container runs ``ContainerEntrypoint + ContainerArguments``; on exit 0
  every ``ProcessingOutput``'s ``LocalPath`` is uploaded to its ``S3Uri``. A
  failed job's reason is ``/opt/ml/output/message`` (the job's ExitMessage,
  "Save and Access Metadata Information About Your Processing Job") or else
  ``/opt/ml/output/failure``.
- Training: ``input/config/hyperparameters.json`` (every value a string),
  ``resourceconfig.json`` and ``inputdataconfig.json`` (a channel's
  ``ContentType`` when it has one); channels in ``input/data/<channel>``; the
  container runs ``AlgorithmSpecification.ContainerEntrypoint`` if given, else the
  image's ``train`` (the built-in XGBoost algorithm's training, in its image); on
  exit 0 ``/opt/ml/model`` is archived to
  ``<S3OutputPath>/<job>/output/model.tar.gz``. FailureReason is the first
  1024 characters of ``/opt/ml/output/failure`` ("How Amazon SageMaker
  Provides Training Information").
- Models (Model steps, RegisterModel containers, Transform): the container's
  ``ModelDataUrl`` is extracted to ``/opt/ml/model`` and ``serve`` runs
  (:func:`serve`).

The bed plays S3 itself (:mod:`tests.containers.s3`). Where a container would
fetch a code archive from S3 on its own (the training toolkit's
``sagemaker_submit_directory``, the serving stack's
``SAGEMAKER_SUBMIT_DIRECTORY``), the bed hands it the staged object's local
path; both toolkits read a local ``.tar.gz`` in that place exactly as the
downloaded one (``files.download_and_extract``). That is the bed's one
substitution in a job's inputs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tarfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from tests.containers import serving
from tests.containers.envs import environment
from tests.containers.images import Image, image_for_uri
from tests.containers.jobs import HOST, JobResult, run_container
from tests.containers.s3 import S3

_STEP_REF = re.compile(r"^Steps\.([^.\[]+)")
_MAX_REASON = 1024


class DefinitionError(AssertionError):
    """The definition asks for something the service would not do (a test failure, not a bed error)."""


@attrs.define
class StepRun:
    name: str
    type: str
    status: str = "NotStarted"  # Executing, Succeeded, Failed, or NotStarted
    failure_reason: str | None = None
    properties: dict[str, Any] = attrs.Factory(dict)
    outcome: bool | None = None  # a Condition's result
    job: JobResult | None = None


@attrs.define
class Execution:
    definition: dict[str, Any]
    parameters: dict[str, Any]
    #: ``Execution.PipelineExecutionId``: the service gives each execution its own (12 characters,
    #: lowercase letters and digits, e.g. ``x1uqz3jrt2ym``); the bed numbers them.
    execution_id: str = "bed-execution-1"
    steps: dict[str, StepRun] = attrs.Factory(dict)
    status: str = "Executing"
    failure_reason: str | None = None
    #: Models the pipeline created: name -> container (resolved).
    models: dict[str, dict[str, Any]] = attrs.Factory(dict)
    #: Model package versions registered, in order: the resolved request.
    packages: list[dict[str, Any]] = attrs.Factory(list)

    def ran(self) -> list[str]:
        return [name for name, run in self.steps.items() if run.status != "NotStarted"]


def _walk(
    steps: list[dict[str, Any]], branch: tuple[str, bool] | None = None
) -> Iterator[tuple[dict[str, Any], Any]]:
    for step in steps:
        yield step, branch
        if step["Type"] == "Condition":
            yield from _walk(step["Arguments"].get("IfSteps", []), (step["Name"], True))
            yield from _walk(step["Arguments"].get("ElseSteps", []), (step["Name"], False))


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str):
            match = _STEP_REF.match(get)
            if match:
                found.add(match.group(1))
        for item in value.values():
            found |= _references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _references(item)
    return found


def _json_path(document: Any, path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            document = document[int(part[1:-1])]
        else:
            document = document[part]
    return document


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ControlPlane:
    """Plays definitions; ``image`` (with its environment ``venv``) runs every job that names no image."""

    def __init__(self, image: Image, venv: str, workdir: str, s3: S3, region: str = "us-east-1") -> None:
        self.image, self.venv, self.workdir, self.s3, self.region = image, venv, workdir, s3, region
        self.executions = 0
        self._environments = {image.slug: venv}

    def image_env(self, uri: str | None) -> tuple[Image, str]:
        """The image an image URI names and its environment, built on first use (``envs.environment``).

        The plane's own image keeps the environment it was given. A URI the bed does not emulate
        raises ``images.NotEmulatedError``; no URI at all means the plane's own image.
        """
        if uri is None:
            return self.image, self.venv
        image = image_for_uri(uri)
        if image.slug not in self._environments:
            self._environments[image.slug] = environment(image)
        return image, self._environments[image.slug]

    # ----------------------------------------------------------------- values
    def resolve(self, value: Any, execution: Execution) -> Any:
        if isinstance(value, list):
            return [self.resolve(v, execution) for v in value]
        if not isinstance(value, dict):
            return value
        if "Get" in value:
            return self._get(value["Get"], execution)
        if "Std:Join" in value:
            join = value["Std:Join"]
            return join["On"].join(_text(self.resolve(v, execution)) for v in join["Values"])
        if "Std:JsonGet" in value:
            spec = value["Std:JsonGet"]
            document = self._property_file(spec["PropertyFile"], execution)
            return _json_path(document, spec["Path"])
        return {k: self.resolve(v, execution) for k, v in value.items()}

    def _get(self, path: str, execution: Execution) -> Any:
        if path.startswith("Parameters."):
            return execution.parameters[path[len("Parameters.") :]]
        if path == "Execution.PipelineName":
            return execution.definition.get("PipelineName", "bed-pipeline")
        if path == "Execution.PipelineExecutionId":
            return execution.execution_id
        match = _STEP_REF.match(path)
        if not match:
            raise DefinitionError(f"cannot resolve {path!r}")
        run = execution.steps[match.group(1)]
        if run.status != "Succeeded":
            raise DefinitionError(f"{path!r} read before step {run.name!r} succeeded ({run.status})")
        rest = path[match.end() :].lstrip(".")
        if rest not in run.properties:
            raise DefinitionError(
                f"step {run.name!r} has no property {rest!r} (it has {sorted(run.properties)})"
            )
        return run.properties[rest]

    def _property_file(self, reference: dict[str, Any], execution: Execution) -> Any:
        path = reference["Get"]
        match = re.match(r"^Steps\.([^.]+)\.PropertyFiles\.(.+)$", path)
        if not match:
            raise DefinitionError(f"bad property file reference {path!r}")
        step = self._step(execution, match.group(1))
        files = {p["PropertyFileName"]: p for p in step.get("PropertyFiles", [])}
        if match.group(2) not in files:
            raise DefinitionError(f"step {match.group(1)!r} declares no property file {match.group(2)!r}")
        spec = files[match.group(2)]
        outputs = {o["OutputName"]: o for o in step["Arguments"]["ProcessingOutputConfig"]["Outputs"]}
        base = self.resolve(outputs[spec["OutputName"]]["S3Output"]["S3Uri"], execution)
        return json.loads(self.s3.get(base.rstrip("/") + "/" + spec["FilePath"]))

    def _step(self, execution: Execution, name: str) -> dict[str, Any]:
        for step, _ in _walk(execution.definition["Steps"]):
            if step["Name"] == name:
                return step
        raise DefinitionError(f"no step {name!r}")

    # ----------------------------------------------------------------- conditions
    def condition(self, cond: dict[str, Any], execution: Execution) -> bool:
        kind = cond["Type"]
        if kind == "And":
            return all(self.condition(c, execution) for c in cond["Conditions"])
        if kind == "Or":
            return any(self.condition(c, execution) for c in cond["Conditions"])
        if kind == "Not":
            return not self.condition(cond["Condition"], execution)
        if kind == "In":
            left = self.resolve(cond["QueryValue"], execution)
            return any(left == self.resolve(v, execution) for v in cond["Values"])
        left = self.resolve(cond["LeftValue"], execution)
        right = self.resolve(cond["RightValue"], execution)
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "Equals": lambda a, b: a == b,
            "GreaterThan": lambda a, b: a > b,
            "GreaterThanOrEqualTo": lambda a, b: a >= b,
            "LessThan": lambda a, b: a < b,
            "LessThanOrEqualTo": lambda a, b: a <= b,
        }
        return compare[kind](left, right)

    # ----------------------------------------------------------------- execution
    def execute(self, definition: dict[str, Any], parameters: Mapping[str, Any] = {}) -> Execution:
        values = {p["Name"]: p.get("DefaultValue") for p in definition.get("Parameters", [])}
        values.update(parameters)
        self.executions += 1
        execution = Execution(definition, values, execution_id=f"bedexecution{self.executions:04d}")
        entries = list(_walk(definition["Steps"]))
        branch_of = {step["Name"]: branch for step, branch in entries}
        needs = {}
        for step, branch in entries:
            execution.steps[step["Name"]] = StepRun(step["Name"], step["Type"])
            deps = _references(step.get("Arguments", {})) | set(step.get("DependsOn", []))
            if branch:
                deps.add(branch[0])
            if step["Type"] == "Condition":  # its branches' steps belong to it, not before it
                deps -= {s["Name"] for s, b in entries if b and b[0] == step["Name"]}
            needs[step["Name"]] = deps
        pending = [step for step, _ in entries]
        while execution.status == "Executing":
            progressed = False
            for step in list(pending):
                name, branch = step["Name"], branch_of[step["Name"]]
                if branch:
                    decided = execution.steps[branch[0]].outcome
                    if decided is not None and decided != branch[1]:
                        pending.remove(step)  # on the branch not taken
                        progressed = True
                        continue
                if all(execution.steps[d].status == "Succeeded" for d in needs[name]):
                    pending.remove(step)
                    self._run_step(step, execution)
                    progressed = True
                    break  # rescan in definition order
            if not progressed:
                break  # what is left waits on steps that did not run
        if execution.status == "Executing":
            execution.status = "Succeeded"
        return execution

    def _run_step(self, step: dict[str, Any], execution: Execution) -> None:
        run = execution.steps[step["Name"]]
        run.status = "Executing"
        handler = getattr(self, "_" + step["Type"].lower())
        try:
            handler(step, run, execution)
        except _StepFailed as exc:
            run.status, run.failure_reason = "Failed", str(exc)
            execution.status = "Failed"
            execution.failure_reason = f"Step failure: One or multiple steps failed: {step['Name']}: {exc}"
            return
        run.status = "Succeeded"

    def _job_root(self, name: str) -> str:
        root = os.path.join(self.workdir, "jobs", name, "ml")
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)
        os.makedirs(os.path.join(root, "output"))
        return root

    def _local(self, root: str, container_path: str) -> str:
        if not container_path.startswith("/opt/ml/"):
            raise DefinitionError(f"LocalPath {container_path!r} is outside /opt/ml")
        return os.path.join(root, container_path[len("/opt/ml/") :])

    def _local_code(self, uri: str) -> str:
        """The staged object a container would fetch from S3 itself (see the module docstring)."""
        if not self.s3.exists(uri):
            raise _StepFailed(f"ClientError: the code object {uri} does not exist (deploy would upload it)")
        return self.s3.path(uri)

    # ----------------------------------------------------------------- step types
    def _processing(self, step: dict[str, Any], run: StepRun, execution: Execution) -> None:
        args = self.resolve(step["Arguments"], execution)
        root = self._job_root(step["Name"])
        os.makedirs(os.path.join(root, "config"))
        with open(os.path.join(root, "config", "resourceconfig.json"), "w") as f:
            json.dump({"current_host": HOST, "hosts": [HOST]}, f)
        for item in args.get("ProcessingInputs", []):
            source = item["S3Input"]
            if source.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise DefinitionError(f"{step['Name']}: the bed plays S3Prefix inputs only")
            if not self.s3.download(source["S3Uri"], self._local(root, source["LocalPath"])):
                raise _StepFailed(
                    f"ClientError: no object under {source['S3Uri']} (input {item['InputName']})"
                )
        outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
        for item in outputs:
            os.makedirs(self._local(root, item["S3Output"]["LocalPath"]), exist_ok=True)
        app = args["AppSpecification"]
        argv = list(app.get("ContainerEntrypoint", [])) + [str(a) for a in app.get("ContainerArguments", [])]
        image, venv = self.image_env(app.get("ImageUri"))
        run.job = run_container(image, venv, root, argv, args.get("Environment", {}))
        if run.job.exit_code != 0:
            raise _StepFailed(self._reason(root, ("message", "failure"), run.job))
        for item in outputs:
            uri = item["S3Output"]["S3Uri"]
            self.s3.upload(self._local(root, item["S3Output"]["LocalPath"]), uri)
            run.properties[f"ProcessingOutputConfig.Outputs['{item['OutputName']}'].S3Output.S3Uri"] = uri

    def _training(self, step: dict[str, Any], run: StepRun, execution: Execution) -> None:
        args = self.resolve(step["Arguments"], execution)
        root = self._job_root(step["Name"])
        config = os.path.join(root, "input", "config")
        os.makedirs(config)
        hyper = {}
        for key, value in args.get("HyperParameters", {}).items():
            if not isinstance(value, str):
                raise DefinitionError(f"{step['Name']}: hyperparameter {key!r} is {value!r}, not a string")
            hyper[key] = value
        if str(hyper.get("sagemaker_submit_directory", "")).startswith("s3://"):  # else a path inside the job
            hyper["sagemaker_submit_directory"] = self._local_code(hyper["sagemaker_submit_directory"])
        channels = {}
        for channel in args.get("InputDataConfig", []):
            source = channel["DataSource"]["S3DataSource"]
            where = os.path.join(root, "input", "data", channel["ChannelName"])
            if not self.s3.download(source["S3Uri"], where):
                raise _StepFailed(
                    f"ClientError: no object under {source['S3Uri']} (channel {channel['ChannelName']})"
                )
            channels[channel["ChannelName"]] = {
                **({"ContentType": channel["ContentType"]} if "ContentType" in channel else {}),
                "TrainingInputMode": channel.get("InputMode", "File"),
                "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": "None",
            }
        for name, content in (
            ("hyperparameters.json", hyper),
            ("inputdataconfig.json", channels),
            (
                "resourceconfig.json",
                {"current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0"},
            ),
        ):
            with open(os.path.join(config, name), "w") as f:
                json.dump(content, f)
        os.makedirs(os.path.join(root, "model"))
        os.makedirs(os.path.join(root, "output", "data"))
        algorithm = args["AlgorithmSpecification"]
        argv = list(algorithm.get("ContainerEntrypoint", ["train"])) + list(
            algorithm.get("ContainerArguments", [])
        )
        env = {"TRAINING_JOB_NAME": f"bed-{step['Name']}", **args.get("Environment", {})}
        image, venv = self.image_env(algorithm.get("TrainingImage"))
        run.job = run_container(image, venv, root, argv, env)
        if run.job.exit_code != 0:
            raise _StepFailed(self._reason(root, ("failure",), run.job))
        archive = os.path.join(os.path.dirname(root), "model.tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            for entry in sorted(os.listdir(os.path.join(root, "model"))):
                tar.add(os.path.join(root, "model", entry), arcname=entry)
        uri = (
            args["OutputDataConfig"]["S3OutputPath"].rstrip("/") + f"/bed-{step['Name']}/output/model.tar.gz"
        )
        self.s3.put_file(uri, archive)
        run.properties["ModelArtifacts.S3ModelArtifacts"] = uri

    def _reason(self, root: str, files: tuple[str, ...], job: JobResult) -> str:
        for name in files:
            path = os.path.join(root, "output", name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    text = f.read()[:_MAX_REASON].decode("utf-8", "replace")
                if text.strip():
                    return text
        return f"AlgorithmError: exit code {job.exit_code}"

    def _model(self, step: dict[str, Any], run: StepRun, execution: Execution) -> None:
        args = self.resolve(step["Arguments"], execution)
        name = f"bed-model-{step['Name']}"
        execution.models[name] = args["PrimaryContainer"]
        run.properties["ModelName"] = name

    def _registermodel(self, step: dict[str, Any], run: StepRun, execution: Execution) -> None:
        args = self.resolve(step["Arguments"], execution)
        metrics = args.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
        if metrics and not self.s3.exists(metrics["S3Uri"]):
            raise _StepFailed(f"ValidationException: model metrics {metrics['S3Uri']} do not exist")
        execution.packages.append(args)
        version = len(execution.packages)
        run.properties["ModelPackageArn"] = (
            f"arn:aws:sagemaker:{self.region}:111122223333:model-package/{version}"
        )

    def _fail(self, step: dict[str, Any], run: StepRun, execution: Execution) -> None:
        raise _StepFailed(_text(self.resolve(step["Arguments"].get("ErrorMessage", ""), execution)))

    def _condition(self, step: dict[str, Any], run: StepRun, execution: Execution) -> None:
        run.outcome = all(self.condition(c, execution) for c in step["Arguments"]["Conditions"])
        run.properties["Outcome"] = run.outcome

    def _transform(self, step: dict[str, Any], run: StepRun, execution: Execution) -> None:
        args = self.resolve(step["Arguments"], execution)
        container = execution.models.get(args["ModelName"])
        if container is None:
            raise _StepFailed(f"ValidationException: no model {args['ModelName']!r}")
        source = args["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
        objects = self.s3.objects(source)
        if not objects:
            raise _StepFailed(f"ClientError: no object under {source}")
        strategies = [args["BatchStrategy"]] if "BatchStrategy" in args else ["MultiRecord", "SingleRecord"]
        results = {}
        for strategy in strategies:  # the service's default is undocumented: the output must not depend on it
            results[strategy] = serving.batch_transform(
                self,
                container,
                args,
                [(rel, full) for rel, full in objects],
                strategy,
                f"{step['Name']}-{strategy}",
            )
        first = results[strategies[0]]
        for strategy, result in results.items():
            if isinstance(result, str):
                raise _StepFailed(result)
            if result != first:
                raise DefinitionError(f"{step['Name']}: {strategy} output differs from {strategies[0]}'s")
        output = args["TransformOutput"]["S3OutputPath"].rstrip("/")
        for rel, data in first.items():
            self.s3.put(f"{output}/{rel}.out", data)
        run.properties["TransformOutput.S3OutputPath"] = output


class _StepFailed(Exception):
    """The step's job failed; the message is its FailureReason."""


def stage_model(plane: ControlPlane, container: Mapping[str, Any], name: str) -> tuple[str, dict[str, str]]:
    """Lay out a model container's ``/opt/ml`` (``model/`` from ``ModelDataUrl``) and its environment."""
    root = plane._job_root(name)
    model_dir = os.path.join(root, "model")
    os.makedirs(model_dir)
    data = container.get("ModelDataUrl")
    if data:
        with tarfile.open(plane.s3.path(data), "r:gz") as tar:
            tar.extractall(model_dir)
    env = {k: str(v) for k, v in container.get("Environment", {}).items()}
    if env.get("SAGEMAKER_SUBMIT_DIRECTORY", "").startswith("s3://"):
        env["SAGEMAKER_SUBMIT_DIRECTORY"] = plane._local_code(env["SAGEMAKER_SUBMIT_DIRECTORY"])
    return root, env
