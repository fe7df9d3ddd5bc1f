"""Why a Seller Performance report is refused, as note keys with English and Chinese text.

A kept report that went bad is left out of the page with its reason (``kept_skipped``): these
reasons are notes of :mod:`perfkit.core.notes` (merged into its catalogue), so a Chinese page
shows them in Chinese while ``perfkit reconcile`` prints the same English as before. Values
(dates, numbers, keys of Amazon's JSON, file names) are parameters, never translated.
"""
from __future__ import annotations

REFUSALS: dict[str, dict[str, str]] = {
    "kept_refused": {"en": "{name}: {label}: {problem}; expected {expected}",
                     "zh": "{name}:{label}:{problem};应为{expected}"},
    # what was expected instead
    "expected_as_downloaded": {"en": "Amazon's report as downloaded (do not edit it)",
                               "zh": "亚马逊原样下载的报告(请勿编辑)"},
    "expected_sp_json": {"en": "the JSON of Amazon's Seller Performance report (GET_V2_SELLER_PERFORMANCE_REPORT), "
                               "as downloaded",
                         "zh": "原样下载的亚马逊卖家绩效报告(GET_V2_SELLER_PERFORMANCE_REPORT)JSON"},
    "expected_sp_report_json": {"en": "Amazon's Seller Performance report JSON", "zh": "亚马逊卖家绩效报告的 JSON"},
    # amazon_json.py: parsing and the schema
    "json_too_deep": {"en": "is nested more than {n} levels deep: not a report Amazon writes",
                      "zh": "嵌套超过 {n} 层:不是亚马逊生成的报告"},
    "json_digits": {"en": "number {token}... has {digits} digits: no figure of a report is that large",
                    "zh": "数字 {token}... 有 {digits} 位:报告中不会有这么大的数值"},
    "json_out_of_range": {"en": "number {token} is out of range", "zh": "数字 {token} 超出范围"},
    "json_constant": {"en": "{token} is not a number JSON allows", "zh": "{token} 不是 JSON 允许的数字"},
    "json_invalid": {"en": "is not JSON ({why})", "zh": "不是 JSON({why})"},
    "json_nested": {"en": "is nested too deep to read", "zh": "嵌套过深,无法读取"},
    "schema_type": {"en": "{where} is {shown}, Amazon's schema wants {wants}",
                    "zh": "{where} 为 {shown},亚马逊的架构要求 {wants}"},
    # reconcile.py: the entry, its windows and values
    "no_metrics_list": {"en": "has no performanceMetrics list", "zh": "没有 performanceMetrics 列表"},
    "wrong_marketplace": {"en": "is for marketplace {named}, the account is {wanted}: download the report of the "
                                "account's marketplace",
                          "zh": "属于站点 {named},而账户是 {wanted}:请下载该账户站点的报告"},
    "many_marketplaces": {"en": "covers {n} marketplaces ({named}) and the account names none: set the account's "
                                "marketplace",
                          "zh": "涵盖 {n} 个站点({named}),而账户未指定站点:请设置账户的站点"},
    "entry_empty": {"en": "its performanceMetrics entry holds no metric, policy block or Account Health Rating",
                    "zh": "其 performanceMetrics 条目中没有任何指标、政策区块或账户状况评级"},
    "entry_no_marketplace": {"en": "its performanceMetrics entry has no marketplaceId, the account is {marketplace}: "
                                   "download the report of the account's marketplace",
                             "zh": "其 performanceMetrics 条目没有 marketplaceId,而账户是 {marketplace}:请下载该账户"
                                   "站点的报告"},
    "field_refused": {"en": "{metric} ({segment}): {why}", "zh": "{metric}({segment}):{why}"},
    "count_not_number": {"en": "count {value} is not a number", "zh": "计数 {value} 不是数字"},
    "count_not_whole": {"en": "count {value} is not a whole number >= 0", "zh": "计数 {value} 不是 >= 0 的整数"},
    "rate_not_finite": {"en": "rate {value} is not a finite number", "zh": "比率 {value} 不是有限数"},
    "date_not_iso": {"en": "reporting date {value} is not an ISO date such as 2026-01-31T23:59Z",
                     "zh": "报告日期 {value} 不是 ISO 日期(例如 2026-01-31T23:59Z)"},
    "date_not_real": {"en": "reporting date {value} is not a real date", "zh": "报告日期 {value} 不是真实存在的日期"},
    "window_backwards": {"en": "the window ends before it starts", "zh": "窗口的结束早于开始"},
    "window_impossible": {"en": "the window lies outside any possible data (before 2000 or in the future)",
                          "zh": "窗口超出任何可能的数据范围(早于 2000 年或在未来)"},
    "window_refused": {"en": "{metric} ({segment}) window {lo}..{hi}: {problem}",
                       "zh": "{metric}({segment})窗口 {lo}..{hi}:{problem}"},
    "rate_not_share": {"en": "{metric} ({segment}) window {lo}..{hi}: rate {rate} is not a share between 0 and 1",
                       "zh": "{metric}({segment})窗口 {lo}..{hi}:比率 {rate} 不是 0 到 1 之间的比例"},
    "range_refused": {"en": "{node}.reportingDateRange: {why}", "zh": "{node}.reportingDateRange:{why}"},
    "range_impossible": {"en": "{node}: {problem} ({lo}..{hi})", "zh": "{node}:{problem}({lo}..{hi})"},
    # health.py: the Account Health Rating and policy counts
    "value_not_number": {"en": "{where}: {value} is not a number", "zh": "{where}:{value} 不是数字"},
    "value_not_whole": {"en": "{where}: {value} is not a whole number >= 0", "zh": "{where}:{value} 不是 >= 0 的整数"},
    "value_not_finite": {"en": "{where}: {value} is not finite", "zh": "{where}:{value} 不是有限数"},
    "ahr_above": {"en": "accountHealthRating.ahrScore {score} is above {top}, the top of Amazon's scale",
                  "zh": "accountHealthRating.ahrScore {score} 高于亚马逊评分的上限 {top}"},
}
