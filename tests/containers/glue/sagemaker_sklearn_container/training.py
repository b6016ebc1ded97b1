"""Training entry of the scikit-learn image (``SAGEMAKER_TRAINING_MODULE``).

Mirrors ``src/sagemaker_sklearn_container/training.py`` (branch v1.4-2): the
training toolkit's ``entry_point.run`` fetches ``sagemaker_submit_directory``,
installs it as the toolkit decides, and runs ``sagemaker_program`` as a
process with the hyperparameters as ``--key value`` arguments.
"""

from sagemaker_training import entry_point, environment, runner


def train(env):
    entry_point.run(
        uri=env.module_dir,
        user_entry_point=env.user_entry_point,
        args=env.to_cmd_args(),
        env_vars=env.to_env_vars(),
        runner_type=runner.ProcessRunnerType,
    )


def main():
    train(environment.Environment())
