"""newinfra: cheap, safe, repeatable AI compute on AWS, Google Cloud and Alibaba Cloud, on Pulumi.

One import package. The core lives here (hardware facts, the placement type, the error type, the project
paths, the offline engine, the CLI); the rooms are mapped into it from the repository's top-level folders:
``newinfra.components`` (components/), ``newinfra.cost_model`` (cost_model/), ``newinfra.policies``
(policies/).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newinfra")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
