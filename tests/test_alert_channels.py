"""Slack, Feishu, Lark and WeCom alerts through Apprise's own plugins (slack://, feishu://, lark://,
wecombot://), each checked for the payload its service's robot webhook publishes. These plugins
post to a host built into them, so HTTPS_PROXY sends the tunnel to a local proxy that answers it
itself (tests/receivers.py: it never connects onwards) and ``?verify=no`` accepts its self-signed
certificate. Also: a broken channel among working ones in a real 3-account batch. No test reaches
the internet."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import warnings

import pytest

from perfkit.engine.registry import resolve_policy
from perfkit.report.alerts import compose, send
from perfkit.report.batch import Outcome

from .conftest import ROOT
from .receivers import intercepting_proxy


def _cell(status, rate, num, den, headroom, target, segment="all"):
    return {"status": status, "rate": rate, "numerator": num, "denominator": den, "segment": segment,
            "coverage": 1.0, "target": target, "headroom": headroom}


def _no_proxy_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k.lower() not in ("no_proxy", "all_proxy", "https_proxy", "http_proxy")}




def _alert():
    """Two accounts, one breach each: the English account's lines in English, the Chinese one's in Chinese."""
    outcomes = {
        # Late shipment 5 of 100 = 5.00% against < 4%: at most 3 late meet it, so 2 over.
        "e-shop": Outcome("e-shop", True, html="e.html", row={
            "_name": "E Shop", "_last": "2026-11-16", "late_shipment_rate_10d": _cell("breach", 0.05, 5, 100, -2, "< 4%")}),
        # Seller-fulfilled ODR 2 of 100 = 2.00% against < 1%; the headroom (-1) is the row's, as the index gives it.
        "z-shop": Outcome("z-shop", True, html="z.html", row={
            "_name": "深圳 Z", "_last": "2026-11-16", "odr:MFN": _cell("breach", 0.02, 2, 100, -1, "< 1%", "MFN")}),
    }
    return compose(outcomes, {}, resolve_policy(None), dt.date(2026, 11, 15), {"z-shop": "zh"}, "en", {}, "",
                   dt.date(2026, 11, 17), 3)


TITLE = "perfkit: 2 change(s) in account health, week to 2026-11-15"  # one new breach per account
BODY = ("E Shop [e-shop]\n"
        "- NEW BREACH: Late Shipment Rate (10 days) (All orders) 5.00% against target < 4%, 2 defect(s) over; "
        "Plan of Action due within 17 days of Amazon's notice\n"
        "深圳 Z [z-shop]\n"
        "- 新超标: 订单缺陷率 (自配送) 2.00%,目标 < 1%, 超出 1 个缺陷; 收到亚马逊通知后 17 天内提交行动计划; "
        "A-to-z 索赔信息请求须在 72 小时内答复,信用卡拒付须在 7 天内答复")


def test_slack_feishu_lark_and_wecom_get_their_published_webhook_payloads(proxy):
    alert = _alert()
    assert (alert.title, alert.body()) == (TITLE, BODY)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # pytest would hide them otherwise; here every warning is kept
        failures = send(alert, ["slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/?verify=no",
                                "feishu://FEISHUHOOK1/?verify=no", "lark://LARKHOOK1/?verify=no",
                                "wecombot://WECOMKEY1/?verify=no"], notes)
    assert failures == []
    got = {g["tunnel"]: g for g in proxy}
    assert sorted(got) == ["hooks.slack.com:443", "open.feishu.cn:443", "open.larksuite.com:443",
                           "qyapi.weixin.qq.com:443"]
    assert all(g["method"] == "POST" for g in proxy) and len(proxy) == 4
    # Slack incoming webhook: /services/T.../B.../secret; a message attachment with title and text,
    # plain (mrkdwn off: the alert is text, and Slack would read its * and _ as markup). Slack's
    # formatting rules have &, < and > written as HTML entities (a bare < starts a link or mention).
    slack = got["hooks.slack.com:443"]
    assert slack["path"] == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    assert slack["json"]["mrkdwn"] is False
    [att] = slack["json"]["attachments"]
    assert (att["title"], att["text"]) == (TITLE, BODY.replace("<", "&lt;"))
    # Feishu custom bot: POST /open-apis/bot/v2/hook/<token>, {"msg_type": "text", "content": {"text"}}.
    assert got["open.feishu.cn:443"]["path"] == "/open-apis/bot/v2/hook/FEISHUHOOK1/"
    assert got["open.feishu.cn:443"]["json"] == {"msg_type": "text", "content": {"text": f"{TITLE}\r\n{BODY}"}}
    # Lark (Feishu's international host): the same message shape.
    assert got["open.larksuite.com:443"]["path"] == "/open-apis/bot/v2/hook/LARKHOOK1"
    assert got["open.larksuite.com:443"]["json"] == {"msg_type": "text", "content": {"text": f"{TITLE}\n{BODY}"}}
    # WeCom group robot: /cgi-bin/webhook/send?key=<key>, {"msgtype": "text", "text": {"content"}};
    # it has no title field, so Apprise puts the title on the first line.
    wecom = got["qyapi.weixin.qq.com:443"]
    assert wecom["path"] == "/cgi-bin/webhook/send?key=WECOMKEY1"
    assert wecom["json"] == {"msgtype": "text", "text": {"content": f"{TITLE}\r\n{BODY}"}}
    # ?verify=no is said once per channel, and urllib3's per-request warning never reaches the terminal.
    assert notes == [f"{s}://…/…: certificate not verified (?verify=no in its URL)"
                     for s in ("slack", "feishu", "lark", "wecombot")]
    from urllib3.exceptions import InsecureRequestWarning
    assert not [w for w in caught if issubclass(w.category, InsecureRequestWarning)]
    # ...and only for that call: urllib3's warning is back afterwards.
    assert not [f for f in warnings.filters if f[2] is InsecureRequestWarning]


def test_a_refusing_service_is_named_and_the_others_still_get_the_message(tmp_path, monkeypatch):
    # Feishu answers a bad hook token with HTTP 200 and a non-zero code (its published errors);
    # WeCom's robot a 404 for an unknown key: both named, Slack still delivered.
    started = intercepting_proxy(tmp_path, refuse={
        "/hook/BADHOOK": (200, "application/json", b'{"code": 19001, "msg": "param invalid: incoming webhook access token invalid"}'),
        "key=BADKEY": (404, "text/plain", b"not found")})
    if started is None:
        pytest.skip("openssl is needed to make the proxy's certificate")
    server, got = started
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        # WeCom's webhook address pasted as the robot's page shows it: Apprise takes it as wecombot://.
        failures = send(_alert(), ["feishu://BADHOOK/?verify=no",
                                   "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=BADKEY&verify=no",
                                   "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/?verify=no"])
    finally:
        server.shutdown()
    assert len(got) == 3 and got[-1]["tunnel"] == "hooks.slack.com:443"
    assert [f.split(":")[0] for f in failures] == ["feishu", "wecombot"]  # each named by its service
    assert failures[0] == ("feishu://…/…: not delivered (Feishu rejected our notification: code=19001 "
                           "msg=param invalid: incoming webhook access token invalid)")
    assert failures[1].startswith("wecombot://…/…: not delivered (Failed to send WeCom Bot notification: ")
    assert not any(s in f for f in failures for s in ("BADHOOK", "BADKEY"))


@pytest.mark.slow
def test_batch_of_three_accounts_with_a_broken_channel_exits_as_without_alerts(tmp_path):
    started = intercepting_proxy(tmp_path, refuse={"/services/TBROKEN": (404, "text/html", b"no_service")})
    if started is None:
        pytest.skip("openssl is needed to make the proxy's certificate")
    server, got = started
    data = tmp_path / "data"
    for aid in ("de-shenzhen-elec", "uk-homechoice", "us-summit-outdoor"):
        shutil.copytree(ROOT / "data/sample" / aid, data / aid)
    config = tmp_path / "private" / "agency.toml"
    config.parent.mkdir()
    # The Chinese team's account in Chinese; the config's own channel beside the command line's.
    config.write_text('[notify]\nurls = ["wecombot://WECOMKEY1/?verify=no"]\n\n'
                      '[accounts.de-shenzhen-elec]\nlanguage = "zh"\n', encoding="utf-8")
    config.chmod(0o600)
    env = {**_no_proxy_env(), "HTTPS_PROXY": f"http://127.0.0.1:{server.server_address[1]}"}
    broken = "slack://TBROKEN/BBROKEN/SECRETSLACKTOKEN1/?verify=no"
    try:
        res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(data), "--out", str(tmp_path / "r"),
                              "--jobs", "2", "--quiet", "--config", str(config), "--notify", broken,
                              "--notify", "feishu://FEISHUHOOK1/?verify=no"],
                             capture_output=True, text=True, timeout=900, env=env)
    finally:
        server.shutdown()
    assert "Traceback" not in res.stderr
    # Every account rendered: the exit a batch without alerts has (0); the channel is a warning.
    assert res.stdout.splitlines()[-1].endswith("(3 rendered, 0 failed)"), res.stdout
    assert res.returncode == 0, res.stderr
    warnings = [line for line in res.stderr.splitlines() if "warning: alert channel" in line]
    assert len(warnings) == 1 and warnings[0].startswith(
        "perfkit: warning: alert channel slack://…/…: not delivered (Failed to send to Slack: ")
    assert warnings[0].endswith("error=404.)")  # the proxy's answer for the broken hook
    # verify=no said once per channel (3), never urllib3's warning per request.
    assert sum("certificate not verified" in line for line in res.stderr.splitlines()) == 3
    assert "InsecureRequestWarning" not in res.stderr and "SECRETSLACKTOKEN1" not in res.stdout + res.stderr
    by_host = {g["tunnel"]: g["json"] for g in got}
    assert sorted(by_host) == ["hooks.slack.com:443", "open.feishu.cn:443", "qyapi.weixin.qq.com:443"]
    feishu = by_host["open.feishu.cn:443"]["content"]["text"]
    wecom = by_host["qyapi.weixin.qq.com:443"]["text"]["content"]
    assert feishu == wecom  # one message per run, the same on every channel
    # Each account's lines in its own language: the zh account's all Chinese, the others' with no Chinese.
    accounts: dict[str, list[str]] = {}
    current = ""
    for line in feishu.split("\r\n", 1)[1].split("\n")[:-1]:  # after the title; the last: the index link
        if line.startswith("- "):
            accounts[current].append(line)
        else:
            current = line.split("] ", 1)[0].rsplit("[", 1)[1]
            accounts[current] = []
    assert sorted(accounts) == ["de-shenzhen-elec", "uk-homechoice", "us-summit-outdoor"]
    han = lambda line: any("\u4e00" <= ch <= "\u9fff" for ch in line.split(":")[0])  # noqa: E731
    assert accounts["de-shenzhen-elec"] and all(han(line) for line in accounts["de-shenzhen-elec"])
    assert "- 新超标: 订单缺陷率 (自配送) " in feishu
    others = accounts["uk-homechoice"] + accounts["us-summit-outdoor"]
    assert others and not any(han(line) for line in others) and "- NEW BREACH: " in feishu


def test_an_account_name_reaches_each_service_as_its_own_text_without_markup_or_visible_escapes(proxy):
    # A name with Markdown characters, an @all, Feishu's mention tag, a newline and a bell.
    from .receivers import json_server, smtp_server
    name = 'shop_[1]*@all <at user_id="all">\nsecond line\x07'
    outcomes = {"e-shop": Outcome("e-shop", True, html="e.html", row={
        "_name": name, "_last": "2026-11-16", "late_shipment_rate_10d": _cell("breach", 0.05, 5, 100, -2, "< 4%")})}
    alert = compose(outcomes, {}, resolve_policy(None), dt.date(2026, 11, 15), {}, "en", {}, "", dt.date(2026, 11, 17), 3)
    # One line; a zero-width joiner (U+200D) after < and @: it reads the same, but no service sees a
    # tag or a mention; no backslash (Apprise escapes for the channels that render Markdown).
    shown = 'shop_[1]*@\u200dall <\u200dat user_id="all"> second line'
    head = f"{shown} [e-shop]"
    assert alert.lines[0] == head
    body = alert.body()
    smtp, mails = smtp_server()
    web, posts = json_server()
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        failures = send(alert, ["feishu://F1/?verify=no", "lark://L1/?verify=no", "wecombot://W1/?verify=no",
                                "dingtalk://D1/?verify=no", "dingtalk://D2/?verify=no&format=markdown",
                                "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/?verify=no",
                                f"mailto://127.0.0.1:{smtp.server_address[1]}?smtp=127.0.0.1&mode=insecure"
                                "&from=alerts@example.invalid&to=team@example.invalid",
                                f"json://127.0.0.1:{web.server_address[1]}/hook"])
    finally:
        smtp.shutdown()
        web.shutdown()
    assert failures == []
    got = {g["path"]: g["json"] for g in proxy}
    title = alert.title
    # Plain-text channels: the text as the team should read it.
    assert got["/open-apis/bot/v2/hook/F1/"]["content"]["text"] == f"{title}\r\n{body}"
    assert got["/open-apis/bot/v2/hook/L1"]["content"]["text"] == f"{title}\n{body}"
    assert got["/cgi-bin/webhook/send?key=W1"]["text"]["content"] == f"{title}\r\n{body}"
    assert got["/robot/send?access_token=D1"]["text"]["content"] == f"{title}\r\n{body}"
    assert got["/robot/send?access_token=D1"]["at"] == {"atMobiles": [], "isAtAll": False}
    # Slack with mrkdwn off: only its own entities for & < > (Slack's formatting rules).
    assert got["/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"]["attachments"][0]["text"] == body.replace("<", "&lt;").replace(">", "&gt;")
    # DingTalk markdown: Apprise's one escape per Markdown character, never a doubled backslash.
    md = got["/robot/send?access_token=D2"]["markdown"]["text"].split("\n")[1]
    assert md == 'shop\\_\\[1\\]\\*@\u200dall <\u200dat user\\_id\\="all"\\> second line \\[e\\-shop\\]'
    assert mails[0]["message"].get_body().get_content().replace("\r\n", "\n") == body + "\n"
    assert posts[0]["json"]["message"] == body
    assert "\\" not in body and "\n" not in alert.lines[0] and "\x07" not in body


def breach_alert(names: list[str], lang: str = "en"):
    """The alert of a run where each named account has a new late-shipment breach."""
    outcomes = {f"shop-{n:03d}": Outcome(f"shop-{n:03d}", True, html=f"{n}.html", row={
        "_name": name, "_last": "2026-11-16",
        "late_shipment_rate_10d": _cell("breach", 0.05, 5, 100, -2, "< 4%")}) for n, name in enumerate(names)}
    return compose(outcomes, {}, resolve_policy(None), dt.date(2026, 11, 15), {}, lang, {}, "https://r.example/index.html",
                   dt.date(2026, 11, 17), 3)


def test_a_50_account_message_is_cut_to_what_wecom_accepts_and_keeps_the_index_link(proxy):
    # 50 accounts with one new breach each: 8.6 KB of text (172 bytes an account), where WeCom's group robot refuses
    # more than 2048 bytes ("最长不超过2048个字节"). Before, the whole body went and WeCom said no.
    alert = breach_alert([f"Shop {n:02d}" for n in range(50)])
    whole = alert.body()
    assert len(whole.encode()) > 4 * 2048 and whole.count("NEW BREACH") == 50
    failures = send(alert, ["wecombot://WECOMKEY1/?verify=no", "feishu://FEISHUHOOK1/?verify=no"])
    assert failures == []
    got = {g["tunnel"]: g["json"] for g in proxy}
    wecom = got["qyapi.weixin.qq.com:443"]["text"]["content"]
    assert len(wecom.encode()) <= 2048 and wecom.startswith(alert.title + "\r\n")
    lines = wecom.split("\r\n", 1)[1].split("\n")
    kept = [line for line in lines if line.startswith("Shop ")]
    # Whole accounts only (a name line, then its breach line), in order, then the count left out and the link.
    assert kept == [f"Shop {n:02d} [shop-{n:03d}]" for n in range(len(kept))] and 5 <= len(kept) < 50
    assert lines[:2 * len(kept)] == alert.lines[:2 * len(kept)]
    assert lines[2 * len(kept):] == [f"… and {50 - len(kept)} more account(s), left out to fit this channel's limit",
                                     "All accounts: https://r.example/index.html"]
    # Feishu takes about 20 KB: the whole message.
    assert got["open.feishu.cn:443"]["content"]["text"] == f"{alert.title}\r\n{whole}"


def test_teams_gets_a_message_cut_under_its_size_limit_with_the_count_left_out(tmp_path):
    # 150 accounts with a new breach each: about 26 KB of text, over what a Teams webhook takes (28 KB
    # of JSON by Microsoft's page, refused from about 21 KB in practice); Apprise would send it whole.
    # In Chinese: Apprise's request escapes each character as \uXXXX, six bytes where UTF-8 has three.
    from .receivers import send_to_teams

    alert = breach_alert([f"深圳优品电子 {n:03d}" for n in range(150)], "zh")
    assert len(alert.body().encode()) > 21000
    failures, got = send_to_teams(tmp_path, alert)
    assert failures == [] and len(got) == 1
    body = next(b["text"] for b in got[0]["json"]["attachments"][0]["content"]["body"] if b.get("id") == "body")
    lines = body.replace("\\", "").split("\n")
    kept = [line for line in lines if line.startswith("深圳优品电子 ")]
    assert 20 < len(kept) < 150 and got[0]["size"] < 21000  # the whole request, as it went
    # In the run's language: how many accounts were left out, then the link to them all.
    assert lines[-2:] == [f"……另有 {150 - len(kept)} 个账户未列出(超出该渠道的消息长度上限)", "全部账户:https://r.example/index.html"]


def test_an_account_named_like_a_detail_line_is_still_its_own_account_when_a_message_is_cut():
    # "- Outlet" starts as an account's detail lines do: a cut kept or dropped it with the account before it.
    alert = breach_alert(["- Outlet" if n % 2 else f"Shop {n}" for n in range(6)])
    assert alert.sizes == [2] * 6
    whole = alert.body()
    cut = alert.body(len(whole.encode()) - 1)  # one byte short: the last account gives way to the count
    lines = cut.split("\n")
    assert lines[-2] == "… and 1 more account(s), left out to fit this channel's limit"
    assert lines[:-2] == alert.lines[:10]
