"""The step runtime: runs a user's step function inside a SageMaker container, or locally.

The same entry point serves SageMaker Processing and Training jobs (reading
SageMaker's documented container locations) and the local runner (with a
local directory standing in for ``/opt/ml``). Nothing here imports boto3 or
the SageMaker SDK.
"""
