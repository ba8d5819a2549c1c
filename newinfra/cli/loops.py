"""Close, at exit, the asyncio event loops the Pulumi SDK opens in its worker threads.

The offline engine's monitor runs in the SDK's thread pool, and the SDK (``_ensure_event_loop``) gives each
worker thread a new event loop that nothing closes. At interpreter exit the garbage collector then finalises
those loops in arbitrary order with their self-pipe sockets; a loop whose socket went first fails in
``BaseEventLoop.__del__`` ("Exception ignored in ... ValueError: Invalid file descriptor: -1"). A command
installs a loop policy that remembers every loop it creates and closes them, once the worker threads have
stopped, from an atexit hook: nothing is left for the collector.
"""

from __future__ import annotations

import asyncio
import atexit
import weakref

_installed = False


class _ClosingPolicy(asyncio.DefaultEventLoopPolicy):
    def __init__(self) -> None:
        super().__init__()
        self.loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        self.loops.add(loop)
        return loop

    def close_all(self) -> None:
        for loop in list(self.loops):
            if not loop.is_running() and not loop.is_closed():
                loop.close()


def close_loops_at_exit() -> None:
    """Install the policy (once per process; a no-op when another policy was set on purpose)."""
    global _installed
    if _installed or type(asyncio.get_event_loop_policy()) is not asyncio.DefaultEventLoopPolicy:
        return
    policy = _ClosingPolicy()
    asyncio.set_event_loop_policy(policy)
    atexit.register(policy.close_all)
    _installed = True
