"""Where a pipeline comes from: the Python file that declared it, or an imported definition."""

from __future__ import annotations

import attrs

__all__ = ["Provenance"]


@attrs.frozen
class Provenance:
    """Where a pipeline comes from.

    A worker process or a SageMaker job re-loads a declared pipeline from ``file``
    (``file.py:attribute`` when the file declares several pipelines). An imported
    definition has no file; ``definition`` says where it came from, for messages
    (``definition 'flow.json'``, ``deployed pipeline 'x'``).
    """

    file: str | None = None
    attribute: str | None = None
    definition: str | None = None

    @property
    def target(self) -> str | None:
        """The TARGET that loads the pipeline again (``path.py`` or ``path.py:attr``), or None."""
        if self.file is None:
            return None
        return f"{self.file}:{self.attribute}" if self.attribute else self.file
