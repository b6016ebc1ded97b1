"""Runs inside a model container of the bed (the image's Python, no network).

``start``: what the image's ``serve`` does before gunicorn: SETUP, when given
(``module:function``, ``Image.serve_setup``: the XGBoost image's ``serve`` first
defaults ``OMP_NUM_THREADS``), then sagemaker_containers' ``_server.start``: with
``SAGEMAKER_PROGRAM`` set, ``modules.import_module``
fetches ``SAGEMAKER_SUBMIT_DIRECTORY`` into ``/opt/ml/code`` and ``pip install``s
it. Then, in a fresh process as a gunicorn worker would be (``--pythonpath``
with the server's ``sys.path`` and ``/opt/ml/code``), ``worker`` loads the WSGI
app ``SAGEMAKER_SERVING_MODULE`` names and sends it the requests in REQUESTS
(JSON), writing the responses to RESPONSES (JSON). Standard library and the
image's werkzeug only.
"""

import base64
import importlib
import json
import os
import subprocess
import sys


def start(requests, responses, setup=None):
    if setup:
        module, _, function = setup.partition(":")
        getattr(importlib.import_module(module), function)()
    from sagemaker_containers import _env, _modules

    env = _env.ServingEnv()
    if env.module_name:
        _modules.import_module(env.module_dir, env.module_name)
    pythonpath = os.pathsep.join(sys.path + [_env.code_dir])
    return subprocess.call([sys.executable, __file__, "worker", requests, responses, pythonpath])


def worker(requests, responses, pythonpath):
    for entry in pythonpath.split(os.pathsep):
        if entry and entry not in sys.path:
            sys.path.append(entry)
    from werkzeug.test import Client

    module, _, attr = os.environ["SAGEMAKER_SERVING_MODULE"].partition(":")
    app = getattr(importlib.import_module(module), attr)
    client = Client(app)
    with open(requests) as f:
        wanted = json.load(f)
    answers = []
    for request in wanted:
        body = base64.b64decode(request.get("body", ""))
        response = client.open(
            request["path"], method=request["method"], data=body, headers=request.get("headers", {})
        )
        answers.append(
            {
                "status": response.status_code,
                "content_type": response.headers.get("Content-Type"),
                "body": base64.b64encode(response.get_data()).decode(),
            }
        )
    with open(responses, "w") as f:
        json.dump(answers, f)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "start":
        sys.exit(start(*sys.argv[2:5]))
    sys.exit(worker(sys.argv[2], sys.argv[3], sys.argv[4]))
