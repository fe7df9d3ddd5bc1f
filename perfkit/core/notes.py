"""Loading's notes as message keys and parameters, with English and Chinese text: one catalogue.

A :class:`Note` *is* its English line (a ``str``: ``perfkit check``, ``metrics`` and the CSV
print it unchanged) and also keeps its key and parameters, so a page in another language renders
it again with :func:`render`. Parameters are what the data says (file labels, rows, column names,
values as found), never translated; a parameter may be a Note itself (a phrase chosen from a
fixed set, such as which rule resolved conflicting item rows), or a list.

Parameter conventions (the only formatting done here):
- ``rows`` (the first five file row numbers) with ``rows_n`` (how many in all): "rows 3, 7 (2 in all)";
- a name ending in ``_or``, a list: "denied or withdrawn";
- any other list: joined with ", " (Chinese: "、").

Core is the lowest layer, so loading (which writes notes) and views, report and explore (which
show them) all read this one catalogue.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from perfkit.core.errors import ROWS_SHOWN, describe_rows
from perfkit.core.refusals import REFUSALS

AS_GIVEN_EN = "counted as given (each date where it falls): check the export's time zone or the dates"
AS_GIVEN_ZH = "按原样计入(各日期按其所在日计):请检查导出文件的时区或日期"

CATALOGUE: dict[str, dict[str, str]] = {
    # loader.py: combining
    "rows_repeat": {"en": "{file}: {n_rows} rows repeat {n_orders} order ids (one row per item); merged into one "
                          "order each",
                    "zh": "{file}:{n_rows} 行重复了 {n_orders} 个订单号(每个商品一行);已各合并为一个订单"},
    "rows_from_files": {"en": "orders: {n_rows} rows from {n_files} files describe {n_orders} orders; merged by "
                              "order id",
                        "zh": "orders:来自 {n_files} 个文件的 {n_rows} 行描述了 {n_orders} 个订单;已按订单号合并"},
    "identical_rows": {"en": "{table}: {n} identical rows from several files counted once",
                       "zh": "{table}:多个文件中 {n} 行完全相同,只计一次"},
    "unknown_orders": {"en": "{table}: {n} rows name order ids not in the orders (e.g. {examples}); left out of "
                             "every rate",
                       "zh": "{table}:{n} 行的订单号不在订单中(例如 {examples});不计入任何比率"},
    "encoding_doubt": {"en": "{label}: {doubt}", "zh": "{label}:{doubt}"},
    # core/encodings.py: how a file that is not UTF-8 was read
    "encoding_both": {"en": "read as {chosen}, but it could be {other} ({why}): {mine} would read {theirs}; if "
                            "that is the right text, give {how}",
                      "zh": "按 {chosen} 读取,但也可能是 {other}({why}):{mine} 将读作 {theirs};如果后者才是"
                            "正确的文字,请提供{how}"},
    "encoding_both_market": {"en": "read as {chosen} for a {marketplace} account, but it could be {other} ({why}): "
                                   "{mine} would read {theirs}; if that is the right text, give {how}",
                             "zh": "{marketplace} 账户按 {chosen} 读取,但也可能是 {other}({why}):{mine} 将读作 "
                                   "{theirs};如果后者才是正确的文字,请提供{how}"},
    "why_both_plausible": {"en": "the detector finds both plausible", "zh": "检测器认为两者都有可能"},
    "why_undecided": {"en": "the detector could not tell them apart", "zh": "检测器无法区分两者"},
    "why_first_unlikely": {"en": "the detector finds the first reading unlikely", "zh": "检测器认为第一种读法不太可能"},
    "encoding_unlikely": {"en": "read as {only}, the only encoding tried that reads it, but the detector finds the "
                                "text unlikely in it; check a product name, and if it is wrong, give {how}",
                          "zh": "按 {only} 读取(所试编码中唯一能读取的),但检测器认为文字不太像该编码;请核对一个"
                                "商品名称,如有错误,请提供{how}"},
    "how_to_name": {"en": 'the file\'s encoding named in the account\'s mapping.json, {{"files": {{"{file}": '
                          '{{"encoding": "{encoding}"}}}}}}, or the file saved as UTF-8',
                    "zh": '在账户的 mapping.json 中写明该文件的编码 {{"files": {{"{file}": '
                          '{{"encoding": "{encoding}"}}}}}},或将文件另存为 UTF-8'},
    # plausible.py: item rows that disagree
    "item_rows_disagree": {"en": "{files}, {rows}, column '{column}': item rows of {n} orders disagree (order "
                                 "{order}: {shown}); {rule}",
                           "zh": "{files},{rows},列 '{column}':{n} 个订单的商品行不一致(订单 {order}:{shown});"
                                 "{rule}"},
    "item_rule.latest_ship_date": {"en": "the earliest ship-by date is used", "zh": "采用最早的最晚发货日期"},
    "item_rule.latest_delivery_date": {"en": "the earliest deliver-by date is used", "zh": "采用最早的最晚送达日期"},
    "item_rule.ship_confirm_date": {"en": "the latest confirmation is used (the order shipped with its last item)",
                                    "zh": "采用最晚的发货确认(订单随最后一件商品发出)"},
    "item_rule.delivered_date": {"en": "the latest delivery is used (the order arrived with its last item)",
                                 "zh": "采用最晚的送达(订单随最后一件商品送达)"},
    "item_rule.invoice_upload_date": {"en": "the latest upload is used", "zh": "采用最晚的上传"},
    "item_rule.refund_date": {"en": "the earliest refund is used", "zh": "采用最早的退款"},
    "item_rule.tracking_valid": {"en": "the order's tracking is invalid if any row says so",
                                 "zh": "只要有一行标为无效,该订单的追踪即无效"},
    "item_rule.buyer_requested_cancel": {"en": "a cancellation is the buyer's only if every row says so",
                                         "zh": "只有每一行都标为买家取消,才算买家取消"},
    "item_rule.is_business_order": {"en": "a business order if any row says so", "zh": "只要有一行标为企业订单,即为企业订单"},
    "item_rule.carrier": {"en": "the first carrier in sorted order is used", "zh": "采用排序后的第一个承运商"},
    "item_rule.tracking_id": {"en": "the first tracking id in sorted order is used", "zh": "采用排序后的第一个追踪编码"},
    "item_rule.category": {"en": "the first category in sorted order is used", "zh": "采用排序后的第一个品类"},
    # plausible.py: dates that cannot be true
    "future_left_out": {"en": "{file}, {rows}, column '{column}': dated after this run ({found}); those rows are "
                              "left out of every rate until the date is corrected",
                        "zh": "{file},{rows},列 '{column}':日期晚于本次运行({found});在日期更正前,这些行不计入"
                              "任何比率"},
    "future_missing": {"en": "{file}, {rows}, column '{column}': dated after this run ({found}); read as missing "
                             "until corrected",
                       "zh": "{file},{rows},列 '{column}':日期晚于本次运行({found});更正前按缺失处理"},
    "order_time_early": {"en": "{files}, {rows}, column '{column}': earlier than {what} (order {order}); "
                               + AS_GIVEN_EN,
                         "zh": "{files},{rows},列 '{column}':早于{what}(订单 {order});" + AS_GIVEN_ZH},
    "the_purchase_date": {"en": "the purchase date", "zh": "购买日期"},
    "the_ship_confirmation": {"en": "the ship confirmation", "zh": "发货确认"},
    "event_time_early": {"en": "{files}, {rows}, column '{column}': earlier than its order's purchase date (order "
                               "{order}); " + AS_GIVEN_EN,
                         "zh": "{files},{rows},列 '{column}':早于其订单的购买日期(订单 {order});" + AS_GIVEN_ZH},
    "removed_undated": {"en": "feedback: {n} removed feedback without removed_date count as removed on every day, "
                              "also before their removal; add removed_date to date each removal",
                        "zh": "feedback:{n} 条已移除的反馈没有 removed_date,在每一天(包括移除之前)都按已移除计;"
                              "请添加 removed_date 以注明每次移除的日期"},
    "decided_undated": {"en": "claims: {n} {statuses_or} claims without status_date count as decided from the day "
                              "they were filed; add status_date to date each decision",
                        "zh": "claims:{n} 条状态为 {statuses_or} 的索赔没有 status_date,自提出之日起即按已裁定计;"
                              "请添加 status_date 以注明每次裁定的日期"},
    "unknown_claim_status": {"en": "{files}, {rows}, column 'status': unknown claim status {found}; {how}; known: "
                                   "{known} (or add the spelling to the policy's [counting.claim_statuses.spellings])",
                             "zh": "{files},{rows},列 'status':未知的索赔状态 {found};{how};已知状态:{known}"
                                   "(或将该写法添加到策略的 [counting.claim_statuses.spellings])"},
    "claim_counted": {"en": "counted against the seller like a granted claim (the policy's "
                            "claim_statuses_not_counted does not list them)",
                      "zh": "与已批准的索赔一样计入卖家(策略的 claim_statuses_not_counted 未列出它们)"},
    "claim_not_counted": {"en": "not counted (the policy's claim_statuses_not_counted lists them)",
                          "zh": "不计入(策略的 claim_statuses_not_counted 列出了它们)"},
    # converting.py, dayorder.py, orderids.py: cells
    "placeholder_date": {"en": "{label}, {rows}, column '{column}': {values} read as no date (an ERP placeholder)",
                         "zh": "{label},{rows},列 '{column}':{values} 按无日期读取(ERP 的占位值)"},
    "day_order_proved": {"en": "{label}, column '{column}': dates such as {example} are only possible {proved}-first, "
                               "so the whole column is read that way (the marketplace writes {usual}-first)",
                         "zh": "{label},列 '{column}':{example} 这样的日期只可能是{proved}在前,因此整列都按此读取"
                               "(该站点通常{usual}在前)"},
    "day": {"en": "day", "zh": "日"},
    "month": {"en": "month", "zh": "月"},
    "ids_cleaned": {"en": "{label}, {rows}, column '{column}': {n} ids held characters no id has ({chars}), taken "
                          "out so they match the other files (e.g. {before} read as {after})",
                    "zh": "{label},{rows},列 '{column}':{n} 个订单号含有订单号中不应有的字符({chars}),已去除,"
                          "以便与其他文件匹配(例如 {before} 读作 {after})"},
    "spaces": {"en": "spaces", "zh": "空格"},
    "reformatted": {"en": "inner spaces, full-width digits or other dashes", "zh": "内部空格、全角数字或其他破折号"},
    # sources.py: which file feeds which table
    "mapping_names_absent": {"en": "{account}/mapping.json names {name}, which is not in the folder (check the file "
                                   "name)",
                             "zh": "{account}/mapping.json 指定了 {name},但文件夹中没有该文件(请检查文件名)"},
    "ignored_suffix": {"en": "{label}: ignored (not .csv, .tsv, .txt or .parquet)",
                       "zh": "{label}:已忽略(不是 .csv、.tsv、.txt 或 .parquet)"},
    "ignored_parquet": {"en": "{label}: ignored (not a perfkit table name; list it in mapping.json)",
                        "zh": "{label}:已忽略(不是 perfkit 的表名;请在 mapping.json 中列出)"},
    "unrecognised": {"en": "{label}: ignored, not a perfkit table nor a known Amazon report (its header: {header}); "
                           "describe it in mapping.json to load it",
                     "zh": "{label}:已忽略,既不是 perfkit 的表,也不是已知的亚马逊报告(表头:{header});"
                           "请在 mapping.json 中描述它以便读取"},
}
CATALOGUE.update(REFUSALS)  # a refused Seller Performance report's reasons (core/refusals.py)


def _rows(shown: Sequence[int], n: int, lang: str) -> str:
    if lang != "zh":
        return describe_rows(shown, total=n)
    listed = "、".join(str(r) for r in shown)
    return f"第 {listed} 行" + (f"(共 {n} 行)" if n > 1 else "")


def _value(name: str, value: object, lang: str) -> str:
    if isinstance(value, Note):
        return render(value, lang)
    if isinstance(value, (list, tuple)):
        parts = [_value("", v, lang) for v in value]
        if name.endswith("_or"):
            if lang == "zh":
                return " 或 ".join(parts)
            return " or ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " or " + parts[-1]
        return ("、" if lang == "zh" else ", ").join(parts)
    return str(value)


def _text(key: str, params: Mapping[str, object], lang: str) -> str:
    entry = CATALOGUE[key]
    template = entry.get(lang) or entry["en"]
    fields = {k: _value(k, v, lang) for k, v in params.items() if k != "rows_n"}
    if "rows" in params:
        fields["rows"] = _rows(params["rows"], int(params["rows_n"]), lang)  # type: ignore[arg-type]
    return template.format(**fields)


class Note(str):
    """A loading note: its English line, with the key and parameters it was made from."""

    key: str
    params: dict[str, object]

    def __new__(cls, key: str, **params: object) -> Note:
        if key not in CATALOGUE:
            raise KeyError(f"no note {key!r} in the catalogue")
        self = super().__new__(cls, _text(key, params, "en"))
        self.key, self.params = key, params
        return self

    def __reduce__(self):  # pickled (worker processes) by key and parameters, not by its English
        return (_rebuild, (self.key, self.params))


def _rebuild(key: str, params: dict[str, object]) -> Note:
    return Note(key, **params)


def rows(numbers: Sequence[int]) -> dict[str, object]:
    """The ``rows``/``rows_n`` parameters for file row numbers (only the first five are kept)."""
    return {"rows": [int(r) for r in list(numbers)[:ROWS_SHOWN]], "rows_n": len(numbers)}


def render(note: str, lang: str = "en") -> str:
    """A note in ``lang``; a plain string (not made from the catalogue) is shown as it is."""
    if isinstance(note, Note):
        return _text(note.key, note.params, lang)
    return str(note)


def to_json(note: str) -> object:
    """A note as JSON (the parsed cache keeps key and parameters, so a cached account renders in zh)."""
    if not isinstance(note, Note):
        return str(note)

    def plain(v: object) -> object:
        if isinstance(v, Note):
            return to_json(v)
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v
    return {"key": note.key, "params": {k: plain(v) for k, v in note.params.items()}}


def from_json(data: object) -> str:
    """The inverse of :func:`to_json`."""
    if isinstance(data, str):
        return data

    def back(v: object) -> object:
        if isinstance(v, dict):
            return from_json(v)
        if isinstance(v, list):
            return [back(x) for x in v]
        return v
    if not isinstance(data, dict) or data.get("key") not in CATALOGUE:
        raise ValueError("not a note")
    return Note(data["key"], **{k: back(v) for k, v in data.get("params", {}).items()})
