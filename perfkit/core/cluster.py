"""Per-account work, locally or on a Dask distributed cluster: one pool for every command.

Accounts are independent, so the unit of distribution is one account. With no scheduler
address nothing here imports Dask: a local run does not need it installed.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from perfkit.core.errors import PerfkitError

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


def imap_accounts(func: Callable[..., T], items: Sequence[str], scheduler: str | None = None, jobs: int = 1,
                  method: str | None = None, **kwargs) -> Iterator[tuple[int, T | BaseException]]:
    """``(i, func(items[i], **kwargs))`` as each finishes; an item whose worker failed yields
    its exception instead, and the others go on.

    Parameters
    ----------
    func : callable
        The per-account work (importable: it runs in other processes).
    items : sequence of str
        One item per account (usually its folder).
    scheduler : str, optional
        A Dask scheduler address; else local processes.
    jobs : int
        Local worker processes (1: in this process, in order).
    method : str, optional
        The local start method ("fork" or "spawn"); default: fork where safe (:func:`_start_method`).
    """
    if scheduler:
        yield from _dask(func, items, scheduler, **kwargs)
        return
    if jobs <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            yield i, func(item, **kwargs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context(method or _start_method())
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_signals) as pool:
        try:
            futures = {pool.submit(_in_worker, func, item, **kwargs): i for i, item in enumerate(items)}
            for fut in as_completed(futures):
                try:
                    yield futures[fut], fut.result()
                except Exception as exc:  # the worker process died: report it, keep going
                    yield futures[fut], exc
        except BaseException:  # interrupted (Ctrl-C, SIGTERM) or abandoned: no worker goes on writing
            stop_workers(pool)
            raise


_BUSY = False      # a worker is inside an account's work
_STOPPING = False  # a worker was told to stop


def _worker_signals() -> None:
    """SIGTERM stops a worker like Ctrl-C: its ``finally`` blocks run (a report's notebook kernel
    is shut down, its temporary files removed), then it exits without taking the next account."""
    import signal

    signal.signal(signal.SIGTERM, _stop)


def _stop(signum: int, frame: object) -> None:
    import os

    global _STOPPING
    _STOPPING = True
    if not _BUSY:
        os._exit(143)
    raise KeyboardInterrupt


def _in_worker(func: Callable[..., T], item: str, **kwargs) -> T:
    import os

    global _BUSY
    _BUSY = True
    try:
        return func(item, **kwargs)
    finally:
        _BUSY = False
        if _STOPPING:
            os._exit(143)


def stop_workers(pool) -> None:
    """Stop a process pool's workers (SIGTERM, which each turns into a clean stop) and wait for
    them; one still running after 15 s is killed (its notebook kernel then notices its parent is
    gone and exits by itself)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(timeout=15)
        if proc.is_alive():
            proc.kill()


def map_accounts(func: Callable[..., T], items: Sequence[str], scheduler: str | None = None, jobs: int = 1,
                 **kwargs) -> list[T]:
    """``[func(item, **kwargs) for item in items]`` through :func:`imap_accounts`, in the order
    of ``items``; a worker's failure is raised.

    Parameters
    ----------
    func, items, scheduler, jobs, **kwargs
        As :func:`imap_accounts`.
    """
    out: list = [None] * len(items)
    for i, result in imap_accounts(func, items, scheduler, jobs, **kwargs):
        if isinstance(result, BaseException):
            raise result
        out[i] = result
    return out


PROBE_SECONDS = 5


def _probe(scheduler: str) -> None:
    """Connect to a tcp:// scheduler with a timeout and read its greeting: a Dask scheduler speaks
    first (its handshake); a web server or anything else is named, never waited on for ever."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    if parts.scheme != "tcp" or not parts.hostname or parts.port is None:
        return  # tls, ucx, ...: the client's own timeout applies
    where = f"{parts.hostname}:{parts.port}"
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=PROBE_SECONDS) as sock:
            sock.settimeout(PROBE_SECONDS)
            greeting = sock.recv(256)
    except TimeoutError:
        raise PerfkitError(f"--scheduler {scheduler}: {where} accepted the connection but said nothing in "
                           f"{PROBE_SECONDS} s, so it is not a Dask scheduler (a web server?); check the port "
                           "(a scheduler listens on 8786, its dashboard on 8787)") from None
    except OSError as exc:
        raise PerfkitError(f"cannot reach the Dask scheduler at {scheduler} ({exc.strerror or exc}); check the "
                           "address (tcp://host:8786) and that it is running") from None
    if b"compression" not in greeting and b"python" not in greeting:
        shown = greeting[:40].decode("ascii", errors="replace").encode("unicode_escape").decode()
        raise PerfkitError(f"--scheduler {scheduler}: {where} is not a Dask scheduler (it answered {shown!r}); "
                           "check the port (a scheduler listens on 8786)")


def _dask(func: Callable[..., T], items: Sequence[str], scheduler: str, **kwargs) -> Iterator[tuple[int, T]]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise PerfkitError("--scheduler needs Dask: pip install 'perfkit[dask]'") from None
    _probe(scheduler)
    try:
        client = Client(scheduler, timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise PerfkitError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); "
                           "check the address (tcp://host:8786) and that it is running") from None
    with client:
        futures = client.map(func, list(items), pure=False, **kwargs)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            try:
                yield index[fut.key], fut.result()
            except Exception as exc:
                yield index[fut.key], exc
