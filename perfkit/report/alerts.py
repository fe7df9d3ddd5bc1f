"""One alert per batch run, where the team works: what changed since the last run.

The weekly batch's index rows (each account's worst value per index metric, computed by its own
report notebook) are compared with the previous run's, kept in ``.alerts.json`` beside the weeks'
folders: new breaches and new at-risk values (value against target, headroom), recoveries,
accounts that failed and accounts whose data is stale; each account's lines in its own language;
links to the pages. Sent through Apprise (e-mail, Slack, Teams, DingTalk, Feishu/Lark, WeCom, a
JSON webhook: one URL each); a channel that fails is named and never stops the others.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from perfkit.core.atomic import atomic_write_text
from perfkit.core.policy import Policy
from perfkit.engine import registry
from perfkit.views.labels import metric_name, segment_name, t

STATE = ".alerts.json"
BAD = ("breach", "at_risk")
_BREAKS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A zero-width joiner after each of these: the text reads the same, but no service sees a mention
# or a tag in it any more (Feishu/Lark's <at user_id="all">, Slack's <!channel>, an @all).
_MENTION = re.compile(r"([<@])")
ZWJ = "\u200d"
# What a service refuses (not just folds) in one text message, in UTF-8 bytes: WeCom's group robot
# "最长不超过2048个字节" (work.weixin.qq.com/api/doc/90000/90136/91770); DingTalk's, Feishu's and
# Lark's robots about 20 KB (Apprise's body_maxlen for them: 19985). A 50-account batch's message is
# ~20 KB, ten times WeCom's: sent whole, the robot refused it and the team heard nothing.
# Teams: "The message size limit is 28 KB" for the whole JSON (learn.microsoft.com, Create an
# Incoming Webhook); client libraries found Teams refusing from about 21 KB (msteams_hermes,
# go-teams-notify). Apprise's Workflows plugin (workflow://) sends the text whole, with a backslash
# before each Markdown character, in an Adaptive Card: 16 KB of text stays under that.
HARD_LIMITS = {"wecombot": 2048, "dingtalk": 19985, "feishu": 19985, "lark": 19985,
               "workflow": 16000, "workflows": 16000}
_MARKDOWN = "\\`*_{}[]()#+-.!|<>~"  # what Apprise escapes for a channel that renders Markdown


def plain(text: object) -> str:
    """Text from a data file (an account name, a failure reason) made safe for any channel: one
    line, no control or direction characters, no mention or tag a service would act on.

    No Markdown escapes: the message goes to Apprise as TEXT, and Apprise escapes it for each
    channel that renders Markdown (Teams, DingTalk or Feishu with ?format=markdown) and for HTML
    e-mail; an escape of ours would show as a backslash in the plain-text ones (DingTalk, Feishu,
    Lark and WeCom text, Slack with mrkdwn off, text e-mail, json://)."""
    cleaned = _CONTROL.sub("", _BREAKS.sub(" ", str(text)))
    return _MENTION.sub(r"\1" + ZWJ, cleaned)


def utf8_size(text: str) -> int:
    return len(text.encode())


def teams_size(text: str) -> int:
    """The bytes a text takes in Apprise's Teams Workflows request: JSON with ASCII escapes (six
    bytes a Chinese character) and a backslash, itself escaped, before each Markdown character."""
    return len(json.dumps(text)) + 2 * sum(text.count(c) for c in _MARKDOWN)


SIZES = {"workflow": teams_size, "workflows": teams_size}  # how each channel's limit is counted (else UTF-8)


@dataclass
class Alert:
    """One run's message: its lines per account and whether anything changed."""

    title: str
    lines: list[str] = field(default_factory=list)
    changes: int = 0
    state: dict = field(default_factory=dict)
    index_line: str = ""  # the link to every page, kept when the message is cut to fit a channel
    lang: str = "en"  # of the line saying how many accounts a cut left out
    sizes: list[int] = field(default_factory=list)  # lines of each account's block, in order

    def body(self, limit: int | None = None, measure: Callable[[str], int] = utf8_size) -> str:
        """The message; with ``limit`` (in ``measure``'s units: UTF-8 bytes unless a channel sends
        it otherwise), whole accounts are left out from the end until it fits, a line
        (``… and N more account(s)``) counts them and the index link stays last."""
        text = "\n".join(self.lines)
        if limit is None or measure(text) <= limit:
            return text
        lines = self.lines[:-1] if self.index_line and self.lines[-1:] == [self.index_line] else self.lines
        sizes = self.sizes if sum(self.sizes) == len(lines) else _blocks_of(lines)
        blocks, at = [], 0
        for n in sizes:
            blocks.append("\n".join(lines[at:at + n]))
            at += n
        tail = [t("alert_more", self.lang, n=len(blocks))] + ([self.index_line] if self.index_line else [])
        budget, kept, size = limit - measure("\n".join(tail)) - 1, [], 0
        for block in blocks:
            cost = measure(block) + (1 if kept else 0)
            if size + cost > budget:
                break
            kept.append(block)
            size += cost
        out = "\n".join(kept + [t("alert_more", self.lang, n=len(blocks) - len(kept))] + tail[1:])
        while out and measure(out) > limit:  # a limit smaller than the tail itself: cut the text
            out = out[:min(len(out) - 1, len(out) * max(limit, 0) // measure(out))]
        return out


def _blocks_of(lines: list[str]) -> list[int]:
    """Each account's lines in an alert built by hand (no ``sizes``): a name line, then its "- " lines."""
    sizes: list[int] = []
    for line in lines:
        if line.startswith("- ") and sizes:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


def _value(cell: dict, lang: str) -> str:
    rate = "–" if cell.get("rate") is None else f"{cell['rate']:.2%}"
    text = t("alert_value", lang, rate=rate, target=cell.get("target") or "–")
    room = cell.get("headroom")
    if room is not None:
        text += ", " + (t("alert_headroom", lang, n=room) if room >= 0 else t("alert_over", lang, n=-room))
    return text


def account_lines(aid: str, name: str, row: dict, before: dict, policy: Policy, lang: str,
                  link: str) -> tuple[list[str], dict]:
    """The changed values of one account (each a line), and its statuses now."""
    keys = {registry.index_key(m, c): m for m, c in registry.index_columns(policy)}
    now = {k: row[k]["status"] for k in keys if isinstance(row.get(k), dict)}
    lines = []
    for k, status in now.items():
        m, was = keys[k], before.get(k)
        if status == "breach" and was != "breach":
            key = "alert_breach"
        elif status == "at_risk" and was not in BAD:
            key = "alert_at_risk"
        elif status == "ok" and was in BAD:
            key = "alert_recovered"
        else:
            continue
        cell = row[k]
        lines.append(f"- {t(key, lang)}: {metric_name(m, lang, policy)} ({segment_name(cell['segment'], lang)}) "
                     f"{_value(cell, lang)}{_due(m, policy, lang) if key == 'alert_breach' else ''}")
    lines += _health_lines(row, before, now, lang, policy)
    if lines:
        lines = [f"{plain(name)} [{plain(aid)}]{(' ' + link) if link else ''}"] + lines
    return lines, now


def _due(metric: str | None, policy: Policy, lang: str) -> str:
    """The time Amazon gives once it acts on a breach (policy ``[deadlines]``): the Plan of Action,
    and for a metric made of claims the A-to-z and chargeback response windows."""
    d = policy.deadlines
    text = "; " + t("alert_poa_due", lang, days=d.poa_days)
    if metric in d.claim_metrics:
        text += "; " + t("alert_claims_due", lang, hours=d.a_to_z_response_hours, days=d.chargeback_response_days)
    return text


def _status_word(text: object) -> str:
    """Amazon's AHR status as words (AT_RISK -> AT RISK); anything else is kept as data (:func:`plain`)."""
    text = str(text or "")
    return text.replace("_", " ") if re.fullmatch(r"[A-Z][A-Z_]*", text) else plain(text)


def _ahr_words(text: object, lang: str) -> str:
    """Amazon's AHR status as it wrote it, after its meaning in the alert's language when that is
    not English (``有风险 (AT RISK)``, ``有风险 (WARNED)``)."""
    from perfkit.views.health import ahr_status

    word, status = _status_word(text), ahr_status(str(text or ""))
    return f"{t(status, lang)} ({word})" if lang != "en" and word and status != "no_data" else word


def _health_lines(row: dict, before: dict, now: dict, lang: str, policy: Policy) -> list[str]:
    """Policy compliance (open notices) and the Account Health Rating, as Amazon's report states
    them: a new breach or at-risk status, or a recovery (``now`` gains their statuses)."""
    lines = []
    for key, label in (("_policy", "policy_short"), ("_ahr", "ahr_short")):
        cell = row.get(key)
        if not isinstance(cell, dict) or cell.get("status") not in ("ok", "at_risk", "breach"):
            continue
        status, was = cell["status"], before.get(key)
        now[key] = status
        kind = ("alert_breach" if status == "breach" and was != "breach" else
                "alert_at_risk" if status == "at_risk" and was not in BAD else
                "alert_recovered" if status == "ok" and was in BAD else None)
        if kind is None:
            continue
        value = (f"({t('notices_open', lang)}) {cell.get('open', 0)} / {cell.get('notices', 0)}" if key == "_policy"
                 else f"{cell.get('score') if cell.get('score') is not None else ''} {_ahr_words(cell.get('text'), lang)}".strip())
        due = _due(None, policy, lang) if kind == "alert_breach" else ""
        lines.append(f"- {t(kind, lang)}: {t(label, lang)} {value}{due}")
    return lines


def compose(outcomes: dict, previous: dict, policy: Policy, day: dt.date, langs: dict[str, str],
            default_lang: str, links: dict[str, str], index_link: str, today: dt.date,
            stale_days: int) -> Alert:
    """The run's alert from each account's :class:`~perfkit.report.batch.Outcome` and the last
    run's state (``previous``): only what changed; ``changes`` is 0 when nothing did."""
    state: dict = {}
    lines: list[str] = []
    sizes: list[int] = []  # each account's lines: a name can start with "- " as its details do
    changes = 0
    for aid in sorted(outcomes):
        o, before = outcomes[aid], previous.get(aid, {})
        lang = langs.get(aid, default_lang)
        if not o.ok:
            state[aid] = {"_failed": True}
            if not before.get("_failed"):
                changes += 1
                lines += [f"{plain(aid)}", f"- {t('alert_failed', lang, reason=plain(o.reason))}"]
                sizes.append(2)
            continue
        name = o.row.get("_name") or aid
        acc_lines, now = account_lines(aid, name, o.row, before, policy, lang, links.get(aid, ""))
        last = o.row.get("_last")
        age = (today - dt.date.fromisoformat(last)).days if last else None
        stale = age is not None and age > stale_days
        now["_stale"] = stale
        if stale and not before.get("_stale"):
            acc_lines = acc_lines or [f"{plain(name)} [{plain(aid)}]"]
            acc_lines.append(f"- {t('alert_stale', lang, last=last, days=age)}")
        changes += max(len(acc_lines) - 1, 0)
        lines += acc_lines
        sizes += [len(acc_lines)] if acc_lines else []
        state[aid] = now
    index_line = t("alert_index", default_lang, link=index_link) if index_link else ""
    if lines and index_line:
        lines.append(index_line)
    return Alert(t("alert_title", default_lang, n=changes, day=day.isoformat()), lines, changes, state, index_line,
                 default_lang, sizes)


def read_state(reports_root: Path) -> dict:
    path = reports_root / STATE
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError:
        return {}  # a damaged state only means every value counts as new once


def write_state(reports_root: Path, state: dict) -> None:
    atomic_write_text(reports_root / STATE, json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def redact(url: str) -> str:
    """A channel as it may be shown: its scheme, and a webhook's host and port (two webhooks on
    one host are told apart in the log), never its path, tokens or passwords."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host if scheme in ('json', 'jsons', 'form', 'forms', 'xml') else '…'}/…"


def _scrub(text: str, url: str) -> str:
    """Apprise's reason without any long piece of the URL (tokens, keys, passwords)."""
    for piece in re.split(r"[/:@?&=]+", url.partition("://")[2]):
        if len(piece) >= 6:
            text = text.replace(piece, "…")
    return text


def _channel(url: str, plugin) -> str:
    """The channel as shown: a service's own webhook address pasted as is (https://hooks.slack.com/…)
    is named by the Apprise plugin that took it (slack://…/…), never by its tokens."""
    if url.partition("://")[0].lower() in ("http", "https"):
        proto = getattr(plugin, "secure_protocol", None) or getattr(plugin, "protocol", None)
        proto = proto[0] if isinstance(proto, (tuple, list)) else proto
        if proto and proto not in ("json", "jsons", "form", "forms", "xml", "xmls"):
            return f"{proto}://…/…"
    return redact(url)


def _room(plugin, title: str) -> tuple[int | None, Callable[[str], int]]:
    """The body a channel takes (None: no limit it enforces) and how it is counted. These robots'
    text message has no title field: Apprise puts the title on its first line (joined by CRLF)."""
    proto = getattr(plugin, "secure_protocol", None) or getattr(plugin, "protocol", None)
    protos = proto if isinstance(proto, (tuple, list)) else (proto,)
    limit = next((HARD_LIMITS[p] for p in protos if p in HARD_LIMITS), None)
    measure = next((SIZES[p] for p in protos if p in SIZES), utf8_size)
    return (None if limit is None else limit - measure(title) - 2), measure


def send(alert: Alert, urls: list[str], notes: list[str] | None = None) -> list[str]:
    """Send to each channel on its own; the failures, one line each (channel shown redacted).

    A channel with ``?verify=no`` (a self-hosted relay's own certificate) is said once in
    ``notes``; urllib3's InsecureRequestWarning, printed on every request, is silenced for that
    channel's call only, so a cron log gets one line and other code still gets its warnings."""
    import logging
    import warnings

    import apprise
    from urllib3.exceptions import InsecureRequestWarning

    failures = []
    for url in urls:
        asset = apprise.AppriseAsset(async_mode=False)
        plugin = apprise.Apprise.instantiate(url, asset=asset)
        if plugin is None:
            failures.append(f"{redact(url)}: not a notification URL Apprise knows (see docs/agency.md)")
            continue
        name = _channel(url, plugin)
        unverified = getattr(plugin, "verify_certificate", True) is False
        if unverified and notes is not None:
            notes.append(f"{name}: certificate not verified (?verify=no in its URL)")
        sender = apprise.Apprise(asset=asset)
        sender.add(plugin)
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log, warnings.catch_warnings():
            if unverified:
                warnings.simplefilter("ignore", InsecureRequestWarning)
            ok = sender.notify(body=alert.body(*_room(plugin, alert.title)), title=alert.title,
                               body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            reason = _scrub(" ".join(log.getvalue().split()), url)[:200] or "no reason given"
            failures.append(f"{name}: not delivered ({reason})")
    return failures
