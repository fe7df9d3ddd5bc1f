"""Per-account work, locally or on a Dask distributed cluster.

Accounts are independent, so the unit of distribution is one account. With no scheduler
address nothing here imports Dask: a local run does not need it installed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from .errors import PerfkitError

T = TypeVar("T")


def _start_method() -> str:
    """How worker processes start: "fork" where it is safe, else "spawn".

    A forked worker has pandas and perfkit loaded already (spawned ones import them again,
    about half a second each). Forking is only safe when no other thread could hold a lock,
    so a process with other Python threads (a Jupyter kernel, a Dask client) spawns.
    """
    import sys
    import threading

    return "fork" if sys.platform.startswith("linux") and threading.active_count() == 1 else "spawn"


def map_accounts(func: Callable[..., T], items: Sequence[str], scheduler: str | None = None, jobs: int = 1,
                 **kwargs) -> list[T]:
    """``[func(item, **kwargs) for item in items]``: on the Dask cluster at ``scheduler`` if given,
    else in ``jobs`` local processes (results in the order of ``items``)."""
    if not scheduler:
        if jobs <= 1 or len(items) <= 1:
            return [func(item, **kwargs) for item in items]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        ctx = multiprocessing.get_context(_start_method())
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            return list(pool.map(partial(func, **kwargs), items))
    try:
        from dask.distributed import Client
    except ImportError:
        raise PerfkitError("--scheduler needs Dask: pip install 'perfkit[dask]'") from None
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise PerfkitError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); "
                           "check the address (tcp://host:8786) and that it is running") from None
    with client:
        futures = client.map(func, list(items), pure=False, **kwargs)
        return client.gather(futures)
