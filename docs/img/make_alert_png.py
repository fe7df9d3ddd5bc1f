"""Remake docs/img/alert.png from a real run: `perfkit report` on data/sample (plus a new client
with no orders yet, whose report fails) sends its alert to a local JSON receiver, and the message
it received is drawn as a chat card and photographed by headless Chromium. The run's "today" is
the day after the sample's data day, as on a Monday morning (otherwise every account is stale).

    .venv/bin/python docs/img/make_alert_png.py
"""
from __future__ import annotations

import datetime as dt
import html
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from perfkit.cli import agency as cli_agency  # noqa: E402
from perfkit.cli.main import main  # noqa: E402
from tests.receivers import json_server  # noqa: E402

MONDAY = dt.date(2026, 11, 16)


class _Day(dt.date):
    @classmethod
    def today(cls) -> dt.date:
        return MONDAY


def run(tmp: Path) -> dict:
    data = tmp / "data"
    shutil.copytree(ROOT / "data/sample", data)
    (data / "us-new-client").mkdir()
    (data / "us-new-client/account.json").write_text('{"marketplace": "US"}', encoding="utf-8")
    config = tmp / "agency.toml"
    config.write_text('[notify]\nbase_url = "https://reports.example-agency.cn"\n\n'
                      '[accounts.de-shenzhen-elec]\nlanguage = "zh"\n\n[accounts.jp-tiny-shop]\nlanguage = "zh"\n',
                      encoding="utf-8")
    config.chmod(0o600)
    server, got = json_server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cli_agency.dt = types.SimpleNamespace(date=_Day, timedelta=dt.timedelta, datetime=dt.datetime,
                                          timezone=dt.timezone)
    main(["report", str(data), "--out", str(tmp / "reports"), "--jobs", "2", "--quiet", "--config", str(config),
          "--notify", f"json://127.0.0.1:{server.server_address[1]}/hook"])
    server.shutdown()
    return got[0]["json"]


def draw(message: dict, out: Path, tmp: Path) -> None:
    lines = "".join(f"<div>{html.escape(line)}</div>" for line in message["message"].splitlines())
    page = tmp / "card.html"
    page.write_text(f"""<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; background: #f2f3f5; font: 14px/1.5 "Noto Sans CJK SC", "Noto Sans", sans-serif; color: #1f2329; }}
.who {{ color: #8f959e; font-size: 12px; margin: 24px 24px 6px; }}
.card {{ background: #fff; border-radius: 8px; margin: 0 24px 24px; padding: 14px 20px; box-shadow: 0 1px 2px #0001; }}
h1 {{ font-size: 16px; margin: 0 0 8px; }}
</style><div class="who">perfkit 机器人 · Robot · 09:02</div>
<div class="card"><h1>{html.escape(message["title"])}</h1>{lines}</div>""", encoding="utf-8")
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={out}", "--window-size=980,760", page.as_uri()],
                   check=True, capture_output=True, timeout=120)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        message = run(Path(tmp))
        print(json.dumps(message, ensure_ascii=False, indent=1))
        draw(message, ROOT / "docs/img/alert.png", Path(tmp))
