import shutil

import pytest

from tests.paths import REPO_ROOT


@pytest.fixture(scope="session")
def prod_record_dir(tmp_path_factory):
    """The prod stack, planned offline once for the report tests (the record `newinfra plan prod` writes)."""
    from newinfra.offline import run_program

    out = tmp_path_factory.mktemp("report") / "prod"
    run_program(REPO_ROOT, "prod").write(out)
    return out


@pytest.fixture
def needs_dot():
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's `dot` is not installed (apt-get install graphviz, or `make setup`)")
