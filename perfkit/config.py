"""Where things live. Notebooks and commands take their paths from here, never hard-coded.

Every path can be moved with an environment variable, so a user can keep data, reports and
the root-cause database wherever suits them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    """$PERFKIT_HOME, else the checkout this package sits in, else the current folder."""
    if os.environ.get("PERFKIT_HOME"):
        return Path(os.environ["PERFKIT_HOME"]).resolve()
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


@dataclass(frozen=True)
class Paths:
    root: Path
    data: Path          # $PERFKIT_DATA: the data root with one folder per account
    reports: Path       # $PERFKIT_REPORTS: where weekly reports go
    causes_db: Path     # $PERFKIT_CAUSES_DB: the analysts' root-cause choices
    notebooks: Path


def paths() -> Paths:
    root = project_root()
    env = os.environ.get
    return Paths(
        root=root,
        data=Path(env("PERFKIT_DATA", root / "data" / "sample")),
        reports=Path(env("PERFKIT_REPORTS", root / "reports")),
        causes_db=Path(env("PERFKIT_CAUSES_DB", root / "data" / "perfkit.sqlite")),
        notebooks=root / "notebooks",
    )


def app_url() -> str:
    """$PERFKIT_APP_URL: where the explorer app is served (``make app``: Voila's default port), for
    the portfolio's links to it (``?account=ID`` is added)."""
    return os.environ.get("PERFKIT_APP_URL", "http://localhost:8866/")
