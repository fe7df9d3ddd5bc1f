"""The agency's config file: which accounts to pull, their LWA credentials, the alert channels.

A TOML file the user keeps outside the data root (``--config``, else ``PERFKIT_CONFIG``, else
``~/.config/perfkit/agency.toml`` when it exists), refused when its group or others may read it:
it holds refresh tokens and webhook secrets. Environment variables fill or override it:
``PERFKIT_LWA_CLIENT_ID``, ``PERFKIT_LWA_CLIENT_SECRET`` and, per account,
``PERFKIT_LWA_REFRESH_TOKEN_<ACCOUNT>`` (the folder name in capitals, ``-`` as ``_``). Secrets
never appear in a repr, a message or a log.
"""
from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from perfkit.core.errors import PerfkitError
from perfkit.pull import catalogue

DEFAULT_PATH = Path("~/.config/perfkit/agency.toml")
TOP_KEYS = {"sp_api", "pull", "notify", "accounts"}
ACCOUNT_KEYS = {"refresh_token", "client_id", "client_secret", "region", "marketplace", "reports", "notify", "language"}


@dataclass(frozen=True)
class Credentials:
    """One seller's LWA credentials; shown as ``Credentials(region=EU)``, never with the secrets."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    region: str = "NA"

    def secrets(self) -> tuple[str, ...]:
        return (self.client_id, self.client_secret, self.refresh_token)


@dataclass(frozen=True)
class AccountSettings:
    account_id: str
    marketplace: str | None
    region: str | None
    reports: tuple[str, ...]
    notify: tuple[str, ...] = field(repr=False, default=())
    language: str | None = None
    refresh_token: str | None = field(repr=False, default=None)
    client_id: str | None = field(repr=False, default=None)
    client_secret: str | None = field(repr=False, default=None)


@dataclass(frozen=True)
class Agency:
    path: Path | None
    accounts: dict[str, AccountSettings]
    pull: dict[str, float]
    notify: tuple[str, ...] = field(repr=False, default=())
    notify_always: bool = False
    notify_base: str | None = None   # where the report folder is served (links in the alerts)
    stale_days: int = 3               # data older than this many days is stale
    endpoint: str | None = None
    token_url: str | None = None
    client_id: str | None = field(repr=False, default=None)
    client_secret: str | None = field(repr=False, default=None)

    def credentials(self, account_id: str, marketplace: str | None, env: Mapping[str, str] = os.environ) -> Credentials:
        """The account's credentials (the environment first), or one line saying what is missing."""
        acc = self.accounts.get(account_id)
        where = f"{self.path}" if self.path else "the environment"
        cid = env.get("PERFKIT_LWA_CLIENT_ID") or (acc and acc.client_id) or self.client_id
        secret = env.get("PERFKIT_LWA_CLIENT_SECRET") or (acc and acc.client_secret) or self.client_secret
        token = env.get(env_name(account_id)) or (acc and acc.refresh_token)
        missing = [n for n, v in (("client_id", cid), ("client_secret", secret), ("refresh_token", token)) if not v]
        if missing:
            raise PerfkitError(f"{account_id}: no LWA {', '.join(missing)} in {where}; set it under "
                               f"[accounts.{account_id}] (or [sp_api] for the app's id and secret) or in "
                               f"{env_name(account_id) if 'refresh_token' in missing else 'PERFKIT_LWA_CLIENT_ID/SECRET'}")
        region = (acc and acc.region) or catalogue.region_of((acc and acc.marketplace) or marketplace)
        if region is None:
            raise PerfkitError(f"{account_id}: no SP-API region: give region = \"NA\", \"EU\" or \"FE\" under "
                               f"[accounts.{account_id}] in {where}, or the marketplace in its account.json")
        return Credentials(str(cid), str(secret), str(token), region)


def env_name(account_id: str) -> str:
    return "PERFKIT_LWA_REFRESH_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", account_id.upper())


def config_path(given: str | Path | None, env: Mapping[str, str] = os.environ) -> Path | None:
    """The config file to read: the option, ``PERFKIT_CONFIG``, or the default one when it exists."""
    if given:
        return Path(given)
    if env.get("PERFKIT_CONFIG"):
        return Path(env["PERFKIT_CONFIG"])
    default = DEFAULT_PATH.expanduser()
    return default if default.is_file() else None


def check_private(path: Path, data_root: Path | None) -> None:
    """Refuse a config file that others may read, or that sits inside the data root."""
    if not path.is_file():
        raise PerfkitError(f"{path}: no such config file; create it (docs/agency.md) or drop --config")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Written by another, the credentials could be swapped; an execute bit alone is still access.
        what = " and ".join(w for w, bits in (("readable", 0o044), ("writable", 0o022)) if mode & bits) or "accessible"
        raise PerfkitError(f"{path}: {what} by others (mode {mode:o}); it holds credentials: run chmod 600 {path}")
    if data_root is not None:
        root = Path(data_root).resolve()
        if root == path.resolve().parent or root in path.resolve().parents:
            raise PerfkitError(f"{path}: inside the data root {data_root}; keep credentials outside the data you "
                               "share or back up (e.g. ~/.config/perfkit/agency.toml)")


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PerfkitError(f"{where}: give a list of text, e.g. [\"...\"]")
    return tuple(value)


def _account(aid: str, spec: object, path: Path) -> AccountSettings:
    where = f"{path}: [accounts.{aid}]"
    if not isinstance(spec, dict):
        raise PerfkitError(f"{where} must be a table of keys")
    unknown = sorted(set(spec) - ACCOUNT_KEYS)
    if unknown:
        raise PerfkitError(f"{where}: unknown key {unknown[0]!r}; expected among {', '.join(sorted(ACCOUNT_KEYS))}")
    region = spec.get("region")
    if region is not None and region not in catalogue.regions():
        raise PerfkitError(f"{where}: region {region!r} is not one of {', '.join(catalogue.regions())}")
    reports = _strings(spec.get("reports", list(catalogue.kinds())), f"{where} reports")
    bad = [r for r in reports if r not in catalogue.kinds()]
    if bad:
        raise PerfkitError(f"{where}: unknown report {bad[0]!r}; expected among {', '.join(catalogue.kinds())}")
    language = spec.get("language")
    if language not in (None, "en", "zh"):
        raise PerfkitError(f"{where}: language {language!r} is not \"en\" or \"zh\"")
    return AccountSettings(aid, spec.get("marketplace"), region, reports, _strings(spec.get("notify", []), f"{where} notify"),
                           language, spec.get("refresh_token"), spec.get("client_id"), spec.get("client_secret"))


def read_agency(given: str | Path | None, data_root: str | Path | None = None,
                env: Mapping[str, str] = os.environ) -> Agency:
    """The agency's settings from its config file (checked, private) and the environment."""
    path = config_path(given, env)
    data: dict = {}
    if path is not None:
        check_private(path, Path(data_root) if data_root else None)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise PerfkitError(f"{path}: not valid TOML ({exc}); see docs/agency.md for the layout") from None
        unknown = sorted(set(data) - TOP_KEYS)
        if unknown:
            raise PerfkitError(f"{path}: unknown section {unknown[0]!r}; expected among {', '.join(sorted(TOP_KEYS))}")
    pull = catalogue.pull_defaults()
    for key, value in data.get("pull", {}).items():
        if key not in pull or not isinstance(value, (int, float)) or value < 0:
            raise PerfkitError(f"{path}: [pull] {key} = {value!r}: expected a number >= 0 for one of {', '.join(pull)}")
        pull[key] = value
    sp = data.get("sp_api", {})
    notify = data.get("notify", {})
    accounts = {aid: _account(aid, spec, path) for aid, spec in data.get("accounts", {}).items()} if path else {}
    return Agency(path, accounts, pull, _strings(notify.get("urls", []), f"{path}: [notify] urls"),
                  bool(notify.get("always", False)), notify.get("base_url"), int(notify.get("stale_days", 3)),
                  env.get("PERFKIT_SPAPI_ENDPOINT") or sp.get("endpoint"),
                  env.get("PERFKIT_LWA_TOKEN_URL") or sp.get("token_url"), sp.get("client_id"), sp.get("client_secret"))


def configured_accounts(agency: Agency, folders: list[str], env: Mapping[str, str] = os.environ) -> list[str]:
    """The accounts to pull: those of the config file, and any folder with a refresh token in the
    environment; in the data root's order."""
    return [f for f in folders if f in agency.accounts or env.get(env_name(f))]
