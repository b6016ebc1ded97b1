"""The container test bed's stand-in for the XGBoost image's glue (built-in algorithm mode).

The real image (``sagemaker-xgboost:3.2-0``, built by aws/deep-learning-containers,
``docker/xgboost/Dockerfile``) installs a wheel of aws/sagemaker-xgboost-container
(master, ``src/``) that is not on PyPI: the packages ``sagemaker_xgboost_container``
and ``sagemaker_algorithm_toolkit``. These modules do what that wheel does for the
built-in algorithm, through the same sagemaker-containers calls, written anew:

- :mod:`.training` (``SAGEMAKER_TRAINING_MODULE``): algorithm-mode training, run by
  sagemaker-containers' ``train`` (``_trainer.train``), which turns an exception
  into ``/opt/ml/output/failure``;
- :mod:`.serving` (``SAGEMAKER_SERVING_MODULE``): the algorithm-mode model server;
- :mod:`.toolkit`, :mod:`.hyperparameters`, :mod:`.data`: the validation and the
  data loading they share.

Kept to one host on CPU with File-mode channels. Left out, each with a clear error
where a job would need it: script mode (``sagemaker_program`` / ``SAGEMAKER_PROGRAM``),
distributed and Dask GPU training, k-fold cross-validation (``_kfold``),
checkpoints, ``save_model_on_termination``, recordio-protobuf data, selectable
inference output (``SAGEMAKER_INFERENCE_OUTPUT``) and the multi-model server
(``SAGEMAKER_MULTI_MODEL``).
"""
