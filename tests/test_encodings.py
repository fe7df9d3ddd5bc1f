"""Every marketplace's files in the encoding Amazon writes them: read exactly, or refused in one line.

The bytes are made here by hand with Python's own codecs (cp1252 is Windows-1252, cp932 is
Windows-31J, the "Shift_JIS" of Amazon Japan), so each test knows the text it must get back.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from perfkit.core.encodings import charset, codec, decode, read_text
from perfkit.core.errors import DataError, PerfkitError
from perfkit.core.policy import default_policy_text, encoding_candidates, parse_policy
from perfkit.loading.loader import load_account
from tests.conftest import write_account

AS_OF = "2026-05-01"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", *args, "--no-cache"],
                          capture_output=True, text=True)


# --- bytes to text ------------------------------------------------------------------------------

GERMAN = "order-id\tproduct-name\tbuyer-city\n1\tDuftkerze „Zitrone & Minze“ – 12 €\tKöln\n2\tBügeleisen\tMünchen\n"
JAPANESE_NAMES = ["バルミューダ ザ・トースター 白", "アイリスオーヤマ 電気ケトル 1.0L", "パナソニック ドライヤー ナノケア",
                  "商品が届きませんでした。梱包が破れていました。"]
JAPANESE = "order-id\tproduct-name\n" + "".join(f"{i}\t{n}\n" for i, n in enumerate(JAPANESE_NAMES))
CHINESE = "订单号,商品名称,买家留言\nA1,蓝牙耳机 无线 降噪,包装破损，很失望\nA2,手机壳 透明 防摔,物流太慢\n"


def test_windows_1252_with_quotes_dashes_euro_and_umlauts_that_are_not_gb18030():
    raw = GERMAN.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb18030")  # “ followed by a tab is no GB18030 character: only one reading
    got = read_text(raw, "acct/report.txt", marketplace="DE")
    assert (got.text, got.encoding, got.name, got.doubt) == (GERMAN, "cp1252", "Windows-1252", None)


def test_windows_1252_umlauts_that_are_also_valid_gb18030_are_not_read_as_chinese():
    text = "name\tcity\nMüller\tKöln\nJürgen Müller\tDüsseldorf\n"
    raw = text.encode("cp1252")
    assert raw.decode("gb18030").startswith("name\tcity\nM黮ler")  # the silent misreading of before
    got = read_text(raw, "acct/x.txt", marketplace="DE")
    assert (got.text, got.encoding, got.doubt) == (text, "cp1252", None)
    assert decode(raw, "acct/x.txt", marketplace="UK") == text


def test_cp932_japanese_product_names_in_a_jp_account():
    raw = JAPANESE.encode("cp932")
    assert raw.decode("gb18030") != JAPANESE  # it decodes as GB18030 too, into 僶儖儈儏乕僟...
    got = read_text(raw, "acct/fba.txt", marketplace="JP")
    assert (got.text, got.encoding, got.doubt) == (JAPANESE, "cp932", None)


def test_a_gb18030_erp_export_in_a_us_account():
    raw = CHINESE.encode("gb18030")
    got = read_text(raw, "acct/erp.csv", marketplace="US")
    assert (got.text, got.encoding, got.doubt) == (CHINESE, "gb18030", None)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le"])
def test_unicode_files_with_and_without_a_mark(encoding):
    text = "order_id,comments\nA," + GERMAN.splitlines()[1] + " 蓝牙 バルミューダ\n"
    assert decode(text.encode(encoding), "acct/orders.csv", marketplace="JP") == text


def test_one_bad_byte_is_refused_with_its_offset_the_encodings_tried_and_what_to_do():
    # 0x81 is undefined in Windows-1252, and no GB18030 character starts with it before a line end.
    raw = b"order-id\tproduct-name\n1\tM\x81\n"  # the byte at offset 9 + 13 + 2 + 1 = 25
    with pytest.raises(DataError) as err:
        read_text(raw, "acct/orders.txt", marketplace="DE")
    message = str(err.value)
    assert message == ("acct/orders.txt: cannot be read as text: byte 0x81 at offset 25 is not UTF-8, and the file is "
                       "neither Windows-1252 (byte 0x81 at offset 25) nor GB18030 (byte 0x81 at offset 25), the "
                       "encodings tried for a DE account; expected the file's encoding named in the account's "
                       'mapping.json, {"files": {"orders.txt": {"encoding": "windows-1252"}}}, or the file saved as UTF-8')
    assert "\n" not in message


@pytest.mark.parametrize("declared, codec_name", [("Cp1252", "cp1252"), ("windows-1252", "cp1252"),
                                                  ("ISO-8859-1", "cp1252"), ("Windows-31J", "cp932"),
                                                  ("Shift_JIS", "cp932"), ("x-sjis", "cp932"), ("GBK", "gb18030"),
                                                  ("UTF-8", "utf-8"), ("utf8", "utf-8")])
def test_declared_names_as_amazon_and_mapping_json_write_them(declared, codec_name):
    assert codec(declared) == codec_name


@pytest.mark.parametrize("content_type, found", [("text/plain; charset=Cp1252", "Cp1252"),
                                                 ('text/plain;charset="UTF-8"', "UTF-8"),
                                                 ("text/tab-separated-values; CHARSET=Windows-31J", "Windows-31J"),
                                                 ("text/plain", None), (None, None)])
def test_the_charset_of_a_downloads_content_type(content_type, found):
    assert charset(content_type) == found


def test_the_declared_charset_decides_and_bytes_not_in_it_are_refused():
    # Shift_JIS as Amazon JP declares it is Windows-31J: ～ (0x8160) and ① (0x8740) read back.
    text = "name\n波ダッシュ～ ①\n"
    assert decode(text.encode("cp932"), "pulled.txt", declared="Shift_JIS") == text
    assert decode(GERMAN.encode("cp1252"), "pulled.txt", declared="Cp1252", marketplace="JP") == GERMAN
    with pytest.raises(DataError, match=r"^pulled.txt: is declared Windows-1252 \('Cp1252'\) but byte 0x81 at offset 5 "
                                        r"is not Windows-1252"):
        decode(b"name\n\x81\x40\n", "pulled.txt", declared="Cp1252")
    with pytest.raises(DataError, match="declared encoding 'EBCDIC-XYZ' is not one perfkit knows"):
        decode(b"\xfc", "pulled.txt", declared="EBCDIC-XYZ")


def test_an_uncertain_choice_warns_with_both_readings_of_one_value():
    # One short product name: GB18030 reads these bytes as well as Windows-31J does, and the
    # detector cannot rule it out; the JP marketplace's choice stands, with a warning.
    raw = "order-id\tproduct-name\n1\tバルミューダ\n".encode("cp932")
    got = read_text(raw, "acct/fba.txt", marketplace="JP")
    assert got.text == "order-id\tproduct-name\n1\tバルミューダ\n" and got.encoding == "cp932"
    assert got.doubt is not None
    assert "'バルミューダ' would read '僶儖儈儏乕僟'" in got.doubt and '"fba.txt": {"encoding": "gb18030"}' in got.doubt


def test_a_japanese_file_in_a_us_account_is_not_read_as_chinese_in_silence():
    # cp932 bytes are no Windows-1252 (0x81 is undefined there) but are GB18030: the only reading
    # the US candidates give is nonsense, and the warning shows the Windows-31J reading.
    got = read_text(JAPANESE.encode("cp932"), "acct/fba.txt", marketplace="US")
    assert got.encoding == "gb18030"
    assert got.doubt is not None and "would read 'バルミューダ ザ・トースター 白'" in got.doubt
    assert '"encoding": "cp932"' in got.doubt


# --- the policy's [encodings] ------------------------------------------------------------------


def test_candidates_per_marketplace_come_from_the_policy():
    assert encoding_candidates("DE") == ("cp1252", "gb18030")
    assert encoding_candidates("GB") == encoding_candidates("UK") == ("cp1252", "gb18030")
    assert encoding_candidates("JP") == ("cp932", "gb18030")
    assert encoding_candidates(None) == encoding_candidates("AU") == ("gb18030", "cp1252")


@pytest.mark.parametrize("line, problem", [
    ('JP = ["cp932", "klingon"]', r"\[encodings\] JP: 'klingon' is not an encoding Python knows"),
    ('JP = ["utf-8"]', r"\[encodings\] JP: 'utf-8' is always tried first"),
    ('Japan = ["cp932"]', r"\[encodings\]: 'Japan' is not a marketplace code"),
    ('JP = []', r"\[encodings\] JP is empty"),
])
def test_a_wrong_encodings_table_is_refused(line, problem):
    text = default_policy_text().replace('JP = ["cp932", "gb18030"]', line)
    with pytest.raises(PerfkitError, match=problem):
        parse_policy(text, "p.toml")


def test_an_encodings_table_without_a_default_is_refused():
    text = default_policy_text().replace('default = ["gb18030", "cp1252"]\n', "")
    with pytest.raises(PerfkitError, match=r"\[encodings\] has no default"):
        parse_policy(text, "p.toml")


# --- whole accounts, through the loader and the command line --------------------------------------

ALL_ORDERS_HEADER = ("amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\t"
                     "fulfillment-channel\tsales-channel\tproduct-name\tsku\tquantity\tis-business-order\n")
DE_PRODUCTS = ["Duftkerze „Zitrone & Minze“", "Bügeleisen – Dampf 2400 W", "Müller Kaffeemühle 30 €", "Weißbier-Glas"]


def de_all_orders() -> str:
    return ALL_ORDERS_HEADER + "".join(
        f"302-000000{i}-000000{i}\t\t2026-03-0{i + 1}T10:00:00+00:00\t2026-03-0{i + 2}T10:00:00+00:00\tShipped\t"
        f"Merchant\tAmazon.de\t{name}\tS{i}\t1\tfalse\n" for i, name in enumerate(DE_PRODUCTS))


DE_FEEDBACK = ("Datum\tBewertung\tKommentare\tIhre Antwort\tBestellnummer\n"  # not a known layout: mapped below
               "15.03.2026\t1\tVerpackung beschädigt, „sehr enttäuscht“ – nie wieder\t\t302-0000000-0000000\n")
DE_MAPPING = {"files": {"Feedback.txt": {"table": "feedback", "encoding": "windows-1252", "columns": {
    "Datum": "feedback_date", "Bewertung": "rating", "Kommentare": "comments", "Bestellnummer": "order_id"},
    "date_order": "dmy"}}}


def de_account(root: Path, encoding: str) -> Path:
    folder = write_account(root, "de-shop", marketplace="DE", tz="Europe/Berlin")
    (folder / "All Orders Report.txt").write_bytes(de_all_orders().encode(encoding))
    (folder / "Feedback.txt").write_bytes(DE_FEEDBACK.encode(encoding))
    mapping = json.loads(json.dumps(DE_MAPPING))
    if encoding == "utf-8":
        del mapping["files"]["Feedback.txt"]["encoding"]
    (folder / "mapping.json").write_text(json.dumps(mapping), encoding="utf-8")
    return folder


def test_a_german_account_in_windows_1252_reads_its_product_names_and_buyers_words(tmp_path):
    acc = load_account(de_account(tmp_path, "cp1252"), cache=False)
    assert acc.orders["product_name"].tolist() == DE_PRODUCTS
    assert acc.feedback["comments"].tolist() == ["Verpackung beschädigt, „sehr enttäuscht“ – nie wieder"]
    assert acc.encodings == {"de-shop/All Orders Report.txt": "Windows-1252", "de-shop/Feedback.txt": "Windows-1252"}
    assert not [w for w in acc.warnings if "read as" in w]  # no doubt about either file


def test_check_names_each_file_not_read_as_utf8(tmp_path):
    de_account(tmp_path / "root", "cp1252")
    res = cli("check", str(tmp_path / "root"))
    assert res.returncode == 0, res.stderr
    assert "  de-shop/All Orders Report.txt: read as Windows-1252\n" in res.stdout
    assert "  de-shop/Feedback.txt: read as Windows-1252\n" in res.stdout
    de_account(tmp_path / "utf8", "utf-8")
    assert "read as" not in cli("check", str(tmp_path / "utf8")).stdout


def metrics_csv(root: Path, as_of: str = AS_OF) -> list[dict]:
    res = cli("metrics", str(root), "--format", "csv", "--as-of", as_of)
    assert res.returncode == 0, res.stderr
    return list(csv.DictReader(io.StringIO(res.stdout)))


def test_metrics_on_a_windows_1252_account_equal_those_on_its_utf8_copy(tmp_path):
    de_account(tmp_path / "cp1252", "cp1252")
    de_account(tmp_path / "utf8", "utf-8")
    legacy, utf8 = metrics_csv(tmp_path / "cp1252"), metrics_csv(tmp_path / "utf8")
    assert legacy == utf8
    # Counted by hand: 4 seller-fulfilled orders (1 to 4 March) in the ODR window, one of them
    # with a 1-star feedback on 15 March: 1 defect of 4.
    odr = next(r for r in legacy if r["metric"] == "odr" and r["segment"] == "MFN")
    assert (odr["numerator"], odr["denominator"]) == ("1", "4")


def test_a_file_no_encoding_reads_is_one_line_and_exit_2(tmp_path):
    folder = de_account(tmp_path / "root", "cp1252")
    report = folder / "All Orders Report.txt"
    # The € of "30 €" becomes 0x81 before a tab: neither Windows-1252 nor GB18030.
    broken = report.read_bytes().replace(b"\x80", b"\x81", 1)
    report.write_bytes(broken)
    res = cli("check", str(tmp_path / "root"))
    assert res.returncode == 2 and "Traceback" not in res.stdout + res.stderr
    line = next(line for line in res.stdout.splitlines() if "FAILED" in line)
    # UTF-8 stops at the first „ (0x84); Windows-1252 only at the 0x81.
    quote, bad = broken.index(b"\x84"), broken.index(b"\x81")
    assert line.startswith("de-shop: FAILED: de-shop/All Orders Report.txt: cannot be read as text: "
                           f"byte 0x84 at offset {quote} is not UTF-8, and the file is neither "
                           f"Windows-1252 (byte 0x81 at offset {bad}) nor GB18030 (byte ")
    assert 'mapping.json, {"files": {"All Orders Report.txt": {"encoding": "windows-1252"}}}' in line


def test_mapping_json_may_name_only_the_encoding_of_an_amazon_report(tmp_path):
    # A DE account's report that is really GB18030 (an ERP's re-export): the mapping's encoding wins
    # over the marketplace's candidates, and the file is still recognised by its headers.
    folder = write_account(tmp_path, "de-shop", marketplace="DE", tz="Europe/Berlin")
    report = ALL_ORDERS_HEADER + ("302-0000001-0000001\t\t2026-03-01T10:00:00+00:00\t2026-03-02T10:00:00+00:00\t"
                                  "Shipped\tMerchant\tAmazon.de\t蓝牙耳机\tS1\t1\tfalse\n")
    (folder / "orders-export.txt").write_bytes(report.encode("gb18030"))
    (folder / "mapping.json").write_text(json.dumps({"files": {"orders-export.txt": {"encoding": "GBK"}}}))
    acc = load_account(folder, cache=False)
    assert acc.orders["product_name"].tolist() == ["蓝牙耳机"]
    assert acc.encodings == {"de-shop/orders-export.txt": "GB18030"}
    (folder / "mapping.json").write_text(json.dumps({"files": {"orders-export.txt": {"encoding": "klingon"}}}))
    with pytest.raises(DataError, match=r"mapping.json entry 'orders-export.txt': unknown encoding 'klingon'"):
        load_account(folder, cache=False)


# --- Japanese titles ------------------------------------------------------------------------------

SHIPMENTS_EN = ("amazon-order-id\tshipment-id\tpurchase-date\tshipment-date\tproduct-name\tcarrier\t"
                "tracking-number\tfulfillment-channel\n")
SHIPMENTS_JA = "注文番号\t出荷ID\t購入日\t出荷日\t商品名\t配送業者\tお問い合わせ伝票番号\tフルフィルメントチャネル\n"
ORDERS_EN = "amazon-order-id\tpurchase-date\torder-status\tfulfillment-channel\tproduct-name\n"
ORDERS_JA = "注文番号\t購入日\t注文ステータス\tフルフィルメントチャネル\t商品名\n"


def jp_account(root: Path, japanese: bool) -> Path:
    folder = write_account(root, "jp-shop", marketplace="JP", tz="Asia/Tokyo")
    # The English download writes ISO 8601 instants; the Japanese one the local 2026/03/01 form.
    when = (lambda d, t: f"2026/03/{d:02d} {t}") if japanese else (lambda d, t: f"2026-03-{d:02d}T{t}+09:00")
    orders = (ORDERS_JA if japanese else ORDERS_EN) + "".join(
        f"503-000000{i}-000000{i}\t{when(i + 1, '10:00:00')}\t{'Cancelled' if i == 3 else 'Shipped'}\t"
        f"{'Amazon' if i < 2 else 'Merchant'}\t{name}\n" for i, name in enumerate(JAPANESE_NAMES))
    shipments = (SHIPMENTS_JA if japanese else SHIPMENTS_EN) + "".join(
        f"503-000000{i}-000000{i}\tD{i}\t{when(i + 1, '10:00:00')}\t{when(i + 2, '09:00:00')}\t{JAPANESE_NAMES[i]}\t"
        f"ヤマト運輸\t4000{i}\tAmazon\n" for i in range(2))
    encoding = "cp932" if japanese else "utf-8"
    (folder / "全注文レポート.txt" if japanese else folder / "All Orders.txt").write_bytes(orders.encode(encoding))
    (folder / "出荷レポート.txt" if japanese else folder / "Shipments.txt").write_bytes(shipments.encode(encoding))
    return folder


def test_a_japanese_account_with_japanese_titles_loads_like_the_english_one(tmp_path):
    ja = load_account(jp_account(tmp_path / "ja", japanese=True), cache=False)
    en = load_account(jp_account(tmp_path / "en", japanese=False), cache=False)
    assert ja.orders["product_name"].tolist() == en.orders["product_name"].tolist() == JAPANESE_NAMES
    for column in ("order_id", "purchase_date", "order_status", "fulfillment_channel", "ship_confirm_date",
                   "carrier", "tracking_id"):
        assert ja.orders[column].astype(str).tolist() == en.orders[column].astype(str).tolist(), column
    assert ja.orders["carrier"].tolist()[:2] == ["ヤマト運輸", "ヤマト運輸"]
    assert str(ja.orders["purchase_date"].iloc[0]) == "2026-03-01 01:00:00+00:00"  # 10:00 in Tokyo
    assert any("Japanese titles" in s for s in ja.sources)
    assert ja.encodings == {"jp-shop/全注文レポート.txt": "Windows-31J (Shift_JIS)",
                            "jp-shop/出荷レポート.txt": "Windows-31J (Shift_JIS)"}


def test_metrics_of_the_japanese_titled_account_equal_the_english_ones(tmp_path):
    jp_account(tmp_path / "ja", japanese=True)
    jp_account(tmp_path / "en", japanese=False)
    ja, en = metrics_csv(tmp_path / "ja", "2026-03-07"), metrics_csv(tmp_path / "en", "2026-03-07")
    assert ja == en
    # Counted by hand: 4 orders on 1 to 4 March, all inside the 7-day window ending 7 March; the
    # 4th (seller-fulfilled) was cancelled: cancel rate 1 of the 2 seller-fulfilled orders.
    cancel = next(r for r in ja if r["metric"] == "cancel_rate")
    assert (cancel["numerator"], cancel["denominator"]) == ("1", "2")


def test_the_poa_quotes_the_buyers_words_of_a_windows_1252_feedback_file_exactly(tmp_path):
    folder = de_account(tmp_path / "root", "cp1252")
    # ODR on 1 May counts orders placed 17 February .. 17 April (60 days, lag 14): two more orders on the
    # window's first and last day make the data cover it (a partial window gets no letter). 1 defect
    # (the 1-star feedback of 15 March) of 6 seller-fulfilled orders: a breach, so a draft.
    with open(folder / "All Orders Report.txt", "ab") as report:
        report.write("".join(
            f"302-000009{i}-000009{i}\t\t2026-{day}T10:00:00+00:00\t2026-{day}T12:00:00+00:00\tShipped\t"
            f"Merchant\tAmazon.de\tKerze\tE{i}\t1\tfalse\n" for i, day in enumerate(("02-17", "04-17"))
        ).encode("cp1252"))
    res = cli("poa", str(tmp_path / "root"), "--account", "de-shop", "--metric", "odr", "--as-of", AS_OF,
              "--causes-db", str(tmp_path / "causes.sqlite"))
    assert res.returncode == 0, res.stderr
    assert "Verpackung beschädigt, „sehr enttäuscht“ – nie wieder" in res.stdout
    assert "302-0000000-0000000" in res.stdout
    assert "16.67%: 1 of 6 orders placed from 2026-02-17 to 2026-04-17 (seller-fulfilled)" in res.stdout
