"""The offline engine: a Pulumi program under the SDK's mock runtime, recorded for checks and tests."""

from newinfra.offline.engine import read_stack_config, run_callable, run_program
from newinfra.offline.mocks import OfflineError
from newinfra.record import Record, dumps, load_record

__all__ = ["OfflineError", "Record", "dumps", "load_record", "read_stack_config", "run_callable", "run_program"]
