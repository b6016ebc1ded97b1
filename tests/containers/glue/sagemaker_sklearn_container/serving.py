"""Serving entry of the scikit-learn image: the WSGI app gunicorn serves, and ``serve``.

Mirrors ``src/sagemaker_sklearn_container/serving.py`` (branch v1.4-2), single
model: the user module named by ``SAGEMAKER_PROGRAM`` is imported (downloaded
and ``pip install``-ed from ``SAGEMAKER_SUBMIT_DIRECTORY`` by
``sagemaker_containers`` when it is not importable yet); its ``model_fn`` and
either ``transform_fn`` or ``input_fn``/``predict_fn``/``output_fn`` (each
falling back to the image's default) feed ``sagemaker_containers``'
``Transformer``; ``main`` is the WSGI app, ``Worker`` (Flask) with ``/ping`` and
``/invocations``. ``serving_entrypoint`` (the image's ``serve`` command) runs
``server.start``, which installs the user module, then starts nginx and gunicorn.
"""

import importlib

import numpy as np
from sagemaker_containers.beta.framework import (
    content_types,
    encoders,
    env,
    modules,
    server,
    transformer,
    worker,
)


class UserError(Exception):
    """``src/sagemaker_sklearn_container/exceptions.py``: a mis-configured user module."""


def default_model_fn(model_dir):
    return transformer.default_model_fn(model_dir)


def default_input_fn(input_data, content_type):
    array = encoders.decode(input_data, content_type)
    return array.astype(np.float32) if content_type in content_types.UTF8_TYPES else array


def default_predict_fn(input_data, model):
    return model.predict(input_data)


def default_output_fn(prediction, accept):
    return worker.Response(encoders.encode(prediction, accept), mimetype=accept)


def _user_module_transformer(user_module):
    model_fn = getattr(user_module, "model_fn", default_model_fn)
    input_fn = getattr(user_module, "input_fn", None)
    predict_fn = getattr(user_module, "predict_fn", None)
    output_fn = getattr(user_module, "output_fn", None)
    transform_fn = getattr(user_module, "transform_fn", None)
    if transform_fn and (input_fn or predict_fn or output_fn):
        raise UserError("Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn")
    if transform_fn is not None:
        return transformer.Transformer(model_fn=model_fn, transform_fn=transform_fn)
    return transformer.Transformer(
        model_fn=model_fn,
        input_fn=input_fn or default_input_fn,
        predict_fn=predict_fn or default_predict_fn,
        output_fn=output_fn or default_output_fn,
    )


def import_module(module_name, module_dir):
    try:
        user_module = importlib.import_module(module_name)
    except ImportError:
        user_module = modules.import_module(module_dir, module_name)
    user_transformer = _user_module_transformer(user_module)
    user_transformer.initialize()
    return user_transformer, getattr(user_module, "execution_parameters_fn", None)


app = None


def main(environ, start_response):
    global app
    if app is None:
        serving_env = env.ServingEnv()
        user_transformer, execution_parameters_fn = import_module(serving_env.module_name, serving_env.module_dir)
        app = worker.Worker(
            transform_fn=user_transformer.transform,
            module_name=serving_env.module_name,
            execution_parameters_fn=execution_parameters_fn,
        )
    return app(environ, start_response)


def serving_entrypoint():
    server.start(env.ServingEnv().framework_module)
