"""The container test bed's stand-in for the scikit-learn image's glue package.

The real ``sagemaker_sklearn_container`` (aws/sagemaker-scikit-learn-container,
``src/sagemaker_sklearn_container/``) is installed in the image from a wheel
that is not on PyPI. These modules do what its ``training.py`` and
``serving.py`` do on branch v1.4-2, through the same toolkit calls, written
anew and kept to what a single-model container runs (the multi-model server
path, used only when ``SAGEMAKER_MULTI_MODEL`` is set, is left out: dagml never
sets it).
"""
