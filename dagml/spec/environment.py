"""Where a step's job runs: its image and the extra packages it needs (:class:`Image`, requirements).

A step declares ``image=`` and ``requirements=`` (``@pipe.step(...)``), or the pipeline does for
all its steps (``Pipeline(name, image=..., requirements=...)``): a step's image replaces the
pipeline's, its requirements add to the pipeline's. Both are facts of the declaration, checked
here as far as they can be without knowing AWS; which framework versions exist, their URIs and
their Pythons are the SageMaker layer's (dagml.sagemaker.images), checked when compiling.

Requirements are PEP 508 strings. dagml resolves them into wheels for the image's platform and
Python when it compiles, ships them with the code, and installs them at container start with no
network (docs/sagemaker.md, "Step environments"). So what pip would fetch from elsewhere than an
index (a URL, a local path, an editable checkout, index options) has no place here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import attrs

from dagml.spec.errors import DeclarationError

__all__ = ["Image", "requirement_lines", "to_image", "to_requirements"]

#: PEP 508 name, optional extras, optional version specifiers, optional marker: what the bundle can
#: carry as a wheel. (A direct reference, ``name @ url``, has no ``@`` allowed here.) A pattern, not a
#: compiled one: ``re`` compiles it on first use, and most pipelines declare no requirements.
_REQUIREMENT = (
    r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"  # name
    r"(\s*\[\s*[A-Za-z0-9._-]+(\s*,\s*[A-Za-z0-9._-]+)*\s*\])?"  # [extras]
    r"(\s*(===|~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+(\s*,\s*(===|~=|==|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?"
    r"(\s*;\s*[^@]+)?$"  # marker
)
_FRAMEWORK = re.compile(r"^[a-z][a-z0-9-]*$")


@attrs.frozen
class Image:
    """A step's image: a SageMaker framework image by ``framework`` and ``version``
    (``Image("xgboost", "1.7-1")``), or any image by ``uri`` (``Image(uri="…/team/train:3")``).

    ``python`` (``"3.11"``): for a framework with several Pythons per version (PyTorch), which one;
    for an image URI, the Python it runs, which dagml cannot otherwise know (compile then assumes
    dagml's runtime floor and says so).
    """

    framework: str | None = None
    version: str | None = None
    uri: str | None = attrs.field(default=None, kw_only=True)
    python: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.uri is not None:
            if self.framework is not None or self.version is not None:
                raise DeclarationError(
                    f"Image(uri={self.uri!r}) names an image by URI and also a framework or version. "
                    "Fix: give either Image(uri=...) or Image(framework, version)."
                )
            if not isinstance(self.uri, str) or not self.uri or any(ch.isspace() for ch in self.uri):
                raise DeclarationError(
                    f"Image(uri={self.uri!r}): an image URI is a non-empty string without spaces."
                )
        elif (
            not isinstance(self.framework, str)
            or not _FRAMEWORK.match(self.framework)
            or not isinstance(self.version, str)
        ):
            raise DeclarationError(
                f"Image({self.framework!r}, {self.version!r}): name a SageMaker framework and its version, "
                "e.g. Image('xgboost', '1.7-1'), or any image with Image(uri='<account>.dkr.ecr.<region>."
                "amazonaws.com/<repository>:<tag>')."
            )
        if self.python is not None and (
            not isinstance(self.python, str) or not re.match(r"^(py)?3\.?\d+$", self.python)
        ):
            raise DeclarationError(f"Image(..., python={self.python!r}): give the image's Python as '3.11'.")

    @property
    def python_version(self) -> tuple[int, int] | None:
        """``python`` as (3, 11), if given."""
        if self.python is None:
            return None
        digits = self.python.removeprefix("py").replace(".", "")
        return 3, int(digits[1:])

    def __str__(self) -> str:
        return self.uri if self.uri is not None else f"{self.framework} {self.version}"


def to_image(value: object, where: str) -> Image | None:
    """``image=`` as declared: None, an :class:`Image`, or an image URI string."""
    if value is None or isinstance(value, Image):
        return value
    if isinstance(value, str):
        return Image(uri=value)
    raise DeclarationError(
        f"{where}: image={value!r} must be dagml.Image('xgboost', '1.7-1'), dagml.Image(uri=...) or an image URI."
    )


def requirement_lines(text: str, origin: str) -> list[str]:
    """The requirements of a requirements file's text: one per line, comments and blanks dropped.

    Options (``-r``, ``--index-url``, ``-e``…) are refused: the bundle carries wheels, resolved by
    dagml, so where pip would look is not the file's to say.
    """
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith("-"):
            raise DeclarationError(
                f"{origin}, line {number}: {line!r} is a pip option; dagml resolves requirements into wheels it "
                "ships with the code, so a requirements file lists packages only. Fix: remove the line "
                "(for another index, set PIP_INDEX_URL when you compile: dagml's resolver is pip)."
            )
        lines.append(line)
    return lines


def _requirement(value: object, where: str) -> str:
    if not isinstance(value, str) or not re.match(_REQUIREMENT, value.strip()):
        raise DeclarationError(
            f"{where}: requirement {value!r} is not a package requirement dagml can ship as a wheel. "
            "Fix: write it as PEP 508 'name', 'name==1.2.3' or 'name[extra]>=1; python_version >= \"3.10\"' "
            "(no URLs, paths or editable installs: build a wheel and publish it to an index)."
        )
    return " ".join(value.split())


def to_requirements(value: object, where: str, base: str | None) -> tuple[str, ...]:
    """``requirements=`` as declared: a list of PEP 508 strings, or the path of a requirements file
    (relative to ``base``, the declaring file's directory), read now so the spec holds its content."""
    if value is None:
        return ()
    if isinstance(value, (str, os.PathLike)) and (isinstance(value, os.PathLike) or value.endswith(".txt")):
        path = Path(os.fspath(value))
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DeclarationError(
                f"{where}: requirements file {os.fspath(value)!r} cannot be read ({exc.strerror or exc}). "
                "Fix: give a path relative to the pipeline file, or a list of requirements."
            ) from None
        items: Iterable[object] = requirement_lines(text, f"{where}: {path.name}")
    elif isinstance(value, str) or not isinstance(value, Iterable):
        raise DeclarationError(
            f"{where}: requirements={value!r} must be a list of requirements (['xgboost==2.1.4']) or the "
            "path of a requirements file ('requirements.txt')."
        )
    else:
        items = value
    return tuple(dict.fromkeys(_requirement(item, where) for item in items))
