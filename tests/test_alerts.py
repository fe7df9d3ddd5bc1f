"""Alerts after the weekly batch: what changed, in each account's language, sent through Apprise to a
local HTTP receiver on 127.0.0.1 (Apprise's json:// webhook); a failing channel is named and never
stops the batch. No test reaches the internet."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from perfkit.engine.registry import resolve_policy
from perfkit.report.alerts import Alert, compose, plain, send
from perfkit.report.batch import Outcome
from perfkit.views.status import STATUS_COLOURS

from .conftest import ROOT
from .receivers import json_server


@pytest.fixture
def receiver():
    server, got = json_server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook", got
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cell(status, rate, num, den, headroom, target="< 1%", segment="all"):
    return {"status": status, "rate": rate, "numerator": num, "denominator": den, "segment": segment,
            "coverage": 1.0, "target": target, "headroom": headroom}


def test_compose_names_only_what_changed_in_each_accounts_language():
    policy = resolve_policy(None)
    day, today = dt.date(2026, 11, 15), dt.date(2026, 11, 17)
    outcomes = {
        # Seller-fulfilled ODR (the index keeps the channels apart) 3 of 200 = 1.5% against < 1%: at most ceil(0.01 * 200) - 1 = 1 defect meets it, so 2 over.
        "a-shop": Outcome("a-shop", True, html="a-shop.html",
                          row={"_name": "A Shop", "_last": "2026-11-16", "odr:MFN": cell("breach", 0.015, 3, 200, -2, segment="MFN"),
                               # Amazon's report: one policy notice, still open -> a policy-compliance breach.
                               "_policy": {"status": "breach", "open": 1, "notices": 1}}),
        # Chinese account: cancel rate recovered (was at risk); its data ends Nov 10, 7 days before today.
        "b-shop": Outcome("b-shop", True, html="b-shop.html",
                          row={"_name": "深圳 B", "_last": "2026-11-10",
                               "cancel_rate": cell("ok", 0.01, 1, 100, 1, "< 2.5%")}),
        "c-shop": Outcome("c-shop", False, reason="c-shop/orders.csv: required file missing"),
        # Still in breach as last run: not news.
        "d-shop": Outcome("d-shop", True, html="d-shop.html",
                          row={"_name": "D", "_last": "2026-11-16", "odr:MFN": cell("breach", 0.02, 2, 100, -2, segment="MFN")}),
    }
    previous = {"b-shop": {"cancel_rate": "at_risk"}, "d-shop": {"odr:MFN": "breach", "_stale": False}}
    alert = compose(outcomes, previous, policy, day, {"b-shop": "zh"}, "en",
                    {a: f"https://r/{a}.html" for a in outcomes}, "https://r/index.html", today, 3)
    assert alert.lines == [
        "A Shop [a-shop] https://r/a-shop.html",
        # policy.toml [deadlines]: a POA 17 days after Amazon's notice; ODR is made of claims, so
        # A-to-z requests (72 h) and chargebacks (7 days) are named too.
        "- NEW BREACH: Order Defect Rate (Seller-fulfilled) 1.50% against target < 1%, 2 defect(s) over; "
        "Plan of Action due within 17 days of Amazon's notice; "
        "answer A-to-z requests within 72 h, chargebacks within 7 days",
        "- NEW BREACH: Policy compliance (Open) 1 / 1; Plan of Action due within 17 days of Amazon's notice",
        "深圳 B [b-shop] https://r/b-shop.html",
        "- 已恢复: 配送前取消率 (全部订单) 1.00%,目标 < 2.5%, 还可容许 1 个缺陷",
        "- 数据已过期:最后一天 2026-11-10(已 7 天)",
        "c-shop",
        "- report FAILED: c-shop/orders.csv: required file missing",
        "All accounts: https://r/index.html",
    ]
    assert alert.changes == 5
    # The same run again: nothing changed, nothing to say.
    again = compose(outcomes, alert.state, policy, day, {"b-shop": "zh"}, "en", {}, "", today, 3)
    assert again.changes == 0 and again.lines == []


def test_the_ahr_status_is_amazons_word_without_an_escape():
    # Amazon's AHR status AT_RISK (score 180) arrives as words, not "AT\\_RISK";
    # text that is not one of Amazon's upper-case words is still escaped.
    row = {"_name": "A", "_last": "2026-11-16", "_ahr": {"status": "at_risk", "score": 180, "text": "AT_RISK"}}
    alert = compose({"a": Outcome("a", True, html="a.html", row=row)}, {}, resolve_policy(None), dt.date(2026, 11, 15),
                    {}, "en", {}, "", dt.date(2026, 11, 17), 3)
    assert alert.lines == ["A [a]", "- now at risk: AHR 180 AT RISK"]
    row["_ahr"]["text"] = "at_risk [x](y)"
    alert = compose({"a": Outcome("a", True, html="a.html", row=row)}, {}, resolve_policy(None), dt.date(2026, 11, 15),
                    {}, "en", {}, "", dt.date(2026, 11, 17), 3)
    assert alert.lines[1] == "- now at risk: AHR 180 at_risk [x](y)"  # data, kept as written (no escape to show)
    # In Chinese, its meaning first and Amazon's word after; the report's own GREAT/WARNED (no score) too.
    for text, score, said in (("AT_RISK", 180, "健康评级 180 有风险 (AT RISK)"), ("WARNED", None, "健康评级 有风险 (WARNED)")):
        row["_ahr"] = {"status": "at_risk", "score": score, "text": text}
        alert = compose({"a": Outcome("a", True, html="a.html", row=row)}, {}, resolve_policy(None),
                        dt.date(2026, 11, 15), {"a": "zh"}, "en", {}, "", dt.date(2026, 11, 17), 3)
        assert alert.lines[1] == f"- 新风险: {said}"


def test_buyer_or_seller_text_cannot_inject_markup():
    # Direction override and bell gone, the line break a space, a zero-width joiner after < and @
    # (no mention, no tag); Markdown is Apprise's to escape per channel (see test_alert_channels).
    assert plain("Shop\u202e [click](http://evil)\r\n@all <at>\x07") == "Shop [click](http://evil) @\u200dall <\u200dat>"


def test_send_delivers_to_a_webhook_and_names_a_broken_channel(receiver):
    url, got = receiver
    port = closed_port()
    broken = f"json://127.0.0.1:{port}/hook?token=s3cr3t-value"
    failures = send(Alert("perfkit: 1 change(s)", ["A Shop [a-shop]", "- NEW BREACH: ODR"], 1), [broken, url])
    assert len(got) == 1 and got[0]["path"] == "/hook"
    assert got[0]["json"]["title"] == "perfkit: 1 change(s)"
    assert got[0]["json"]["message"] == "A Shop [a-shop]\n- NEW BREACH: ODR"
    assert len(failures) == 1 and failures[0].startswith(f"json://127.0.0.1:{port}/…: not delivered")
    assert "s3cr3t-value" not in failures[0]


@pytest.mark.slow
def test_report_notifies_once_then_stays_quiet(tmp_path, receiver):
    url, got = receiver
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data/sample/de-shenzhen-elec", data / "de-shenzhen-elec")
    port = closed_port()
    broken = f"json://127.0.0.1:{port}/down"

    def report(*extra):
        return subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(data), "--out", str(tmp_path / "r"),
                               "--jobs", "1", "--quiet", "--notify", broken, "--notify", url, *extra],
                              capture_output=True, text=True, timeout=600)

    res = report()
    # The broken channel is named; the run exits as the reports do (0: the account rendered), and
    # the working one got the message.
    assert f"alert channel json://127.0.0.1:{port}/…: not delivered" in res.stderr
    assert res.returncode == 0 and "Traceback" not in res.stderr
    # --quiet: the account that needs a human (a breach; its orders.csv ends on 2026-11-15) and the run's line.
    lines = res.stdout.splitlines()
    assert len(lines) == 2 and lines[1].startswith("index: ")
    assert lines[0].startswith("de-shenzhen-elec: ") and lines[0].endswith(" (breach, stale data: last day 2026-11-15)")
    rows = json.loads(next((tmp_path / "r").glob("*/rows.json")).read_text())
    # every index cell in breach: the metrics, the AHR and policy compliance
    breaches = [c for c in rows[0]["cells"] if c["colour"] == STATUS_COLOURS["breach"]]
    assert len(got) == 1
    message = got[0]["json"]["message"]
    # First run: every breach the index shows is new, each on its own line.
    assert message.startswith("深圳电子 Shenzhen Electronics (DE) [de-shenzhen-elec] ")
    assert message.count("- NEW BREACH: ") == len(breaches) > 0
    assert message.splitlines()[-1].startswith("All accounts: ") and message.splitlines()[-1].endswith("index.html")
    # Second run, same data: nothing changed, nothing sent.
    report()
    assert len(got) == 1


def test_breach_alert_names_the_poa_deadline_from_the_policy_at_the_receiver(receiver):
    from perfkit.core.policy import default_policy_text, parse_policy
    url, got = receiver
    # The deadline is data: an edited [deadlines] changes the line (30 days, 48 h as on Amazon's AU page).
    text = default_policy_text().replace("poa_days = 17", "poa_days = 30").replace(
        "a_to_z_response_hours = 72", "a_to_z_response_hours = 48")
    policy = parse_policy(text, "edited.toml")
    outcomes = {
        # Late shipment 5 of 100 = 5.00% against < 4%: a breach, not a claims metric (POA only).
        "e-shop": Outcome("e-shop", True, html="e.html", row={
            "_name": "E", "_last": "2026-11-16", "late_shipment_rate_10d": cell("breach", 0.05, 5, 100, -2, "< 4%")}),
        # ODR in Chinese: the claim windows too.
        "z-shop": Outcome("z-shop", True, html="z.html", row={
            "_name": "Z", "_last": "2026-11-16", "odr:MFN": cell("breach", 0.02, 2, 100, -1, segment="MFN")}),
    }
    alert = compose(outcomes, {}, policy, dt.date(2026, 11, 15), {"z-shop": "zh"}, "en", {}, "",
                    dt.date(2026, 11, 17), 3)
    assert send(alert, [url]) == []
    assert got[0]["json"]["message"] == (
        "E [e-shop]\n"
        "- NEW BREACH: Late Shipment Rate (10 days) (All orders) 5.00% against target < 4%, 2 defect(s) over; "
        "Plan of Action due within 30 days of Amazon's notice\n"
        "Z [z-shop]\n"
        "- 新超标: 订单缺陷率 (自配送) 2.00%,目标 < 1%, 超出 1 个缺陷; 收到亚马逊通知后 30 天内提交行动计划; "
        "A-to-z 索赔信息请求须在 48 小时内答复,信用卡拒付须在 7 天内答复")


ALERT = Alert("perfkit: 1 change(s)", ["A Shop [a-shop]", "- NEW BREACH: ODR"], 1)


def test_email_reaches_a_local_smtp_server():
    from .receivers import smtp_server
    server, got = smtp_server()
    port = server.server_address[1]
    try:
        failures = send(ALERT, [f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&mode=insecure"
                                "&from=alerts@example.invalid&to=team@example.invalid"])
    finally:
        server.shutdown()
    assert failures == [] and len(got) == 1
    mail = got[0]
    assert (mail["from"], mail["to"]) == ("alerts@example.invalid", ["team@example.invalid"])
    assert mail["message"]["Subject"] == "perfkit: 1 change(s)"
    assert mail["message"].get_body().get_content().replace("\r\n", "\n") == "A Shop [a-shop]\n- NEW BREACH: ODR\n"


def test_teams_gets_its_adaptive_card_at_a_local_https_host(tmp_path):
    from .receivers import send_to_teams

    failures, got = send_to_teams(tmp_path, ALERT)
    assert failures == [] and len(got) == 1
    # The Workflows trigger's own path and Microsoft's message with one Adaptive Card attachment.
    assert got[0]["path"].startswith("/workflows/WF1/triggers/manual/paths/invoke?") and "sig=SIG1" in got[0]["path"]
    payload = got[0]["json"]
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    texts = {b.get("id"): b["text"] for b in card["body"] if b["type"] == "TextBlock"}
    # Teams renders markdown, so Apprise escapes it: the alert's brackets and dashes arrive inert.
    assert texts == {"title": "perfkit: 1 change(s)", "body": "A Shop \\[a\\-shop\\]\n\\- NEW BREACH: ODR"}


def test_dingtalk_gets_its_text_message_through_a_local_proxy(proxy):
    # Apprise's DingTalk plugin always posts to https://oapi.dingtalk.com: HTTPS_PROXY sends the
    # tunnel to a local proxy that answers it itself (never connecting onwards), ?verify=no
    # accepts its self-signed certificate.
    got = proxy
    alert = Alert("perfkit: 1 change(s)", ["深圳 B [b-shop]", "- 新超标: ODR"], 1)
    failures = send(alert, ["dingtalk://ACCESSTOKEN123/?verify=no"])
    assert failures == [] and len(got) == 1
    # DingTalk's robot API: the token in the query, a "text" message with the title and body.
    assert (got[0]["tunnel"], got[0]["method"], got[0]["path"]) == (
        "oapi.dingtalk.com:443", "POST", "/robot/send?access_token=ACCESSTOKEN123")
    assert got[0]["json"]["msgtype"] == "text"
    assert got[0]["json"]["text"] == {"content": "perfkit: 1 change(s)\r\n深圳 B [b-shop]\n- 新超标: ODR"}


def test_a_bad_deadline_in_the_policy_is_refused_by_name():
    from perfkit.core.errors import PerfkitError
    from perfkit.core.policy import default_policy_text, parse_policy
    with pytest.raises(PerfkitError, match=r"^mine.toml: \[deadlines\] poa_days: 0 must be a whole number from 1 to 365$"):
        parse_policy(default_policy_text().replace("poa_days = 17", "poa_days = 0"), "mine.toml")
