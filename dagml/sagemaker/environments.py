"""Each job's environment on SageMaker: its image URI, what dagml knows of that image, its wheels.

A function step runs in its own image (``@pipe.step(image=...)``), else the pipeline's
(``Pipeline(image=...)``), else the compile settings' (``image_uri``, or SageMaker's scikit-learn
image at ``framework_version``). dagml's step runtime needs Python >= RUNTIME_PYTHON there: an
image known to be older is refused; an image whose Python no public source names (any image URI
that is not a SageMaker framework image, without ``Image(uri=..., python=...)``) is assumed to run
the runtime's floor, and compile says so in a note. A container step (``pipe.container``) runs its
image as it is: dagml asks nothing of it.

A model serves its training step's model in that step's image (for PyTorch, the inference image
of the same version); a batch transform uses its model's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from dagml.errors import Problem
from dagml.sagemaker import images
from dagml.sagemaker.errors import CompileError
from dagml.sagemaker.settings import Settings
from dagml.spec.environment import Image
from dagml.spec.specs import ContainerSpec, FunctionSpec, ScriptSpec

if TYPE_CHECKING:
    from dagml.sagemaker.wheels import Wheelhouse

__all__ = ["JobImage", "job_image", "step_wheels"]


@attrs.frozen
class JobImage:
    """One job's image and what dagml knows of it."""

    uri: str
    #: The image's Python, or None when no public source says.
    python: tuple[int, int] | None = None
    framework: str | None = None
    version: str | None = None

    @property
    def proven(self) -> bool:
        """SageMaker's scikit-learn image at a version the container test bed proves."""
        return self.framework == "sklearn" and self.version in images.PROVEN_VERSIONS

    @property
    def glibc(self) -> tuple[int, int] | None:
        return images.image_glibc(self.framework, self.version) if self.framework and self.version else None

    @property
    def packages(self) -> dict[str, str]:
        return images.image_packages(self.framework, self.version) if self.framework and self.version else {}


def _from_uri(uri: str, python: tuple[int, int] | None) -> JobImage:
    """An image given by URI: what dagml knows of it when it is a SageMaker framework image."""
    parsed = images.FrameworkImage.parse(uri)
    if parsed is None:
        return JobImage(uri, python)
    known = images.framework_python(parsed.framework, parsed.version, parsed.python)
    return JobImage(uri, python or known, parsed.framework, parsed.version)


def _declared(image: Image, settings: Settings, scope: str, where: str) -> JobImage:
    if image.uri is not None:
        return _from_uri(image.uri, image.python_version)
    assert image.framework is not None and image.version is not None  # Image checks it at declaration
    python = f"py{image.python.removeprefix('py').replace('.', '')}" if image.python else None
    try:
        uri = images.framework_image(
            image.framework, image.version, settings.region, scope=scope, python=python
        )
    except images.ImageError as exc:
        raise CompileError(f"{where}: {exc}") from None
    return JobImage(
        uri, images.framework_python(image.framework, image.version, python), image.framework, image.version
    )


def _default(settings: Settings) -> JobImage:
    if settings.image_uri is not None:
        return _from_uri(settings.image_uri, None)
    return JobImage(
        settings.image, images.image_python(settings.framework_version), "sklearn", settings.framework_version
    )


def job_image(
    pipeline: str, spec: FunctionSpec | ContainerSpec | ScriptSpec, settings: Settings, scope: str = "training"
) -> JobImage:
    """The image a function, container or script step's job runs in (``scope="inference"``: the one
    that serves its model). dagml's runtime runs only in a function step's: only there is its Python checked."""
    where = f"pipeline {pipeline!r}, step {spec.name!r}"
    if isinstance(spec, ContainerSpec):
        return _declared(spec.image, settings, scope, where)
    if isinstance(spec, ScriptSpec):
        return _declared(spec.image, settings, scope, where) if spec.image is not None else _default(settings)
    found = _declared(spec.image, settings, scope, where) if spec.image is not None else _default(settings)
    if found.python is not None and found.python < images.RUNTIME_PYTHON:
        have, need = ".".join(map(str, found.python)), ".".join(map(str, images.RUNTIME_PYTHON))
        raise CompileError(
            f"{where}: image {found.uri} runs Python {have}, older than the Python {need} dagml's step runtime "
            f"needs, so the step would fail at import. Fix: run it in an image with Python >= {need} (e.g. "
            f"image=dagml.Image('sklearn', {images.DEFAULT_FRAMEWORK_VERSION!r})), or use the image's own entry "
            "point with pipe.container(...)."
        )
    return found


def assumed_python(pipeline: str, spec: FunctionSpec, found: JobImage) -> Problem | None:
    """A note when dagml cannot know the Python of a function step's image and assumes its floor."""
    if found.python is not None:
        return None
    floor = ".".join(map(str, images.RUNTIME_PYTHON))
    return Problem(
        "image-python-unknown",
        (spec.name,),
        f"dagml cannot know the Python of image {found.uri} and assumes {floor}, the oldest its step runtime "
        "supports (the job fails at start, saying so, on an older one).",
        "Say which it is: image=dagml.Image(uri=..., python='3.11').",
        "warning",
    )


def step_wheels(pipeline: str, spec: FunctionSpec, found: JobImage) -> Wheelhouse | None:
    """The wheels a function step's requirements ship for its image (None without requirements, or
    when the image provides every one)."""
    if not spec.requirements:
        return None
    from dagml.sagemaker.wheels import resolve  # only a step with requirements resolves wheels

    wheels = resolve(
        spec.requirements,
        python=found.python or images.RUNTIME_PYTHON,
        glibc=found.glibc,
        packages=found.packages,
        where=f"pipeline {pipeline!r}, step {spec.name!r}",
    )
    return wheels if wheels.files else None
