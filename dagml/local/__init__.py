"""Running pipelines on one machine: the runner, its run store and the local model registry."""
