"""Exit codes of every newinfra command. Each means one thing, so CI never reads a crash as a verdict."""

OK = 0  # success: solved, planned, checked with no mandatory violation
VIOLATION = 1  # `check`, `audit`: a mandatory policy violation (`audit`: or an unmanaged accelerator instance)
BAD_INPUT = 2  # the user's input is wrong: the message names the file, key, bad value and what is valid
INFEASIBLE = 3  # `place` / `solve`: the request is valid but no placement meets it (the reason is printed)
PROGRAM_ERROR = 4  # the Pulumi program under plan/check raised, or the offline engine could not run it
INTERNAL_ERROR = 5  # a bug in newinfra itself: please report it with the message
SOLVER_LIMIT = 6  # `place` / `solve`: the solver hit its time limit before it had a proven plan (no verdict on
#                  the request: place fewer workloads at a time)
