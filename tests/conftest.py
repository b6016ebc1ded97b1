import os
import sys

from hypothesis import HealthCheck, settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

# One profile for CI and laptops; `--hypothesis-profile=long` for deeper runs.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


#: The long variants (`HYPOTHESIS_PROFILE=long make test`) run many more examples.
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


def examples(default: int, long: int) -> int:
    """max_examples for a property test: ``default`` in CI, ``long`` in the long variant."""
    return long if LONG else default
