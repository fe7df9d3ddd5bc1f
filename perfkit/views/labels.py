"""Every label a user sees, in English and Chinese, chosen by one ``lang`` parameter."""
from __future__ import annotations

from perfkit.core.policy import Policy

LANGS = ("en", "zh")

TEXT: dict[str, dict[str, str]] = {
    # statuses
    "ok": {"en": "OK", "zh": "正常"},
    "at_risk": {"en": "At risk", "zh": "有风险"},
    "breach": {"en": "Breach", "zh": "超标"},
    "no_data": {"en": "No data", "zh": "无数据"},
    "info": {"en": "Info", "zh": "参考"},
    "failed": {"en": "Failed", "zh": "失败"},
    "partial": {"en": "Partial data", "zh": "数据不完整"},
    "advisory": {"en": "Below recommended target", "zh": "未达建议目标"},
    "missing_input_note": {"en": "missing input {item}: {notes}", "zh": "缺少输入 {item}:{notes}"},
    "not_used": {"en": "not used", "zh": "未使用"},
    "missing_list": {"en": "missing: {items}", "zh": "缺少:{items}"},
    "kept_skipped": {"en": "kept Amazon report left out: {why}", "zh": "已保存的亚马逊报告未采用:{why}"},
    "after_last_order": {"en": "the report's day {day} is after the account's last order ({last}): values after "
                                "that day count no new orders",
                         "zh": "报告日 {day} 晚于账户最后一笔订单({last}):此后的数值不含新订单"},
    "units_partial": {"en": "{metric} ({segment}): computed on {share} of its units (a column it is placed by is "
                            "empty in the other rows); not judged",
                      "zh": "{metric}({segment}):仅基于 {share} 的单位计算(其他行缺少所需的列);不作评判"},
    "too_few": {"en": "Too few units", "zh": "单位数不足"},
    "why_too_few": {"en": "fewer than {n} units in the window: Amazon does not judge it in this marketplace",
                    "zh": "窗口内少于 {n} 个单位:亚马逊在该站点不评判此指标"},
    "why_advisory": {"en": "misses Amazon's recommended target {target}; Amazon takes no action on it in this "
                           "marketplace", "zh": "未达到亚马逊建议目标 {target};该站点亚马逊不会因此采取措施"},
    "partial_note": {"en": "partial data: the window starts before the first order (or ends after the last), or "
                           "a column it needs covers only part of its units, so this value is not judged",
                     "zh": "数据不完整:窗口早于第一笔订单开始(或晚于最后一笔订单结束),或所需字段只覆盖部分单位,该值不作判定"},
    "partial_trace": {"en": "partial data", "zh": "数据不完整"},
    "counted": {"en": "Counted / units", "zh": "计数 / 总数"},
    "good": {"en": "good", "zh": "合格"},
    "defective": {"en": "defective", "zh": "缺陷"},
    "as_of_week": {"en": "Figures as of {day}, the last day of the last full week (Monday to Sunday) in the data",
                   "zh": "数据截至 {day}:数据中最后一个完整周(周一至周日)的最后一天"},
    "as_of_chosen": {"en": "Figures as of {day}, as chosen for this report", "zh": "数据截至 {day}(本报告指定日期)"},
    "data_until": {"en": "last day of data: {day}", "zh": "数据最后日期:{day}"},
    # segments
    "MFN": {"en": "Seller-fulfilled", "zh": "自配送"},
    "AFN": {"en": "FBA", "zh": "亚马逊配送"},
    "all": {"en": "All orders", "zh": "全部订单"},
    # defect components
    "negative_feedback": {"en": "Negative feedback", "zh": "负面反馈"},
    "a_to_z_claim": {"en": "A-to-z claim", "zh": "交易保障索赔"},
    "chargeback": {"en": "Chargeback", "zh": "信用卡拒付"},
    "seller_cancellation": {"en": "Seller cancellation", "zh": "卖家取消"},
    "late_shipment": {"en": "Late shipment", "zh": "迟发"},
    "invalid_tracking": {"en": "No valid tracking", "zh": "无有效追踪"},
    "late_delivery": {"en": "Late delivery", "zh": "延迟送达"},
    "missing_invoice": {"en": "Invoice missing or late", "zh": "发票缺失或延迟"},
    "negative_return_feedback": {"en": "Negative return feedback", "zh": "退货差评"},
    "late_response": {"en": "Return not answered in 48 h", "zh": "48小时内未回应退货"},
    "invalid_rejection": {"en": "Invalid return rejection", "zh": "无效的退货拒绝"},
    "refund": {"en": "Refund", "zh": "退款"},
    "return_request": {"en": "Return request", "zh": "退货请求"},
    # account health and policy compliance
    "health_heading": {"en": "Account health and policy compliance", "zh": "账户健康与商品政策合规性"},
    "ahr": {"en": "Account Health Rating", "zh": "账户健康评级"},
    "ahr_short": {"en": "AHR", "zh": "健康评级"},
    "policy_short": {"en": "Policy compliance", "zh": "政策合规"},
    "policy_target": {"en": "0 open", "zh": "0 未解决"},
    "ahr_none": {"en": "no Amazon report kept yet (perfkit reconcile keeps them)",
                 "zh": "尚未保存亚马逊报告(perfkit reconcile 会保存)"},
    "policy_category": {"en": "Policy category", "zh": "政策类别"},
    "notices_window": {"en": "Notices ({days} days)", "zh": "通知({days} 天内)"},
    "notices_open": {"en": "Open", "zh": "未解决"},
    "amazon_count": {"en": "Amazon's count", "zh": "亚马逊计数"},
    "no_notices": {"en": "No policy notices in the last {days} days and none in Amazon's kept report.",
                   "zh": "最近 {days} 天没有政策通知,亚马逊已保存的报告中也没有。"},
    "no_notices_file": {"en": "No policy_notices.csv: counts come only from Amazon's kept reports.",
                        "zh": "没有 policy_notices.csv:计数仅来自已保存的亚马逊报告。"},
    "notices_chart": {"en": "Policy notices by month and category", "zh": "按月份和类别统计的政策通知"},
    # headings and words
    "metric": {"en": "Metric", "zh": "指标"},
    "segment": {"en": "Segment", "zh": "范围"},
    "rate": {"en": "Rate", "zh": "比率"},
    "target": {"en": "Target", "zh": "目标"},
    "warn": {"en": "Warning level", "zh": "预警线"},
    "status": {"en": "Status", "zh": "状态"},
    "headroom": {"en": "Headroom", "zh": "余量"},
    "counts": {"en": "Defects / units", "zh": "缺陷数 / 总数"},
    "good_counts": {"en": "Good / units", "zh": "合格数 / 总数"},
    "this_week": {"en": "This week", "zh": "本周"},
    "last_week": {"en": "Last week", "zh": "上周"},
    "change": {"en": "Change", "zh": "变化"},
    "trend": {"en": "Trend", "zh": "趋势"},
    "as_of": {"en": "As of", "zh": "截至"},
    "date": {"en": "Date", "zh": "日期"},
    "account": {"en": "Account", "zh": "账户"},
    "maturing": {"en": "early view, still maturing", "zh": "早期视图,尚未成熟"},
    "amazon_official": {"en": "Amazon's figure", "zh": "亚马逊官方数据"},
    "breach_period": {"en": "breach", "zh": "超标期"},
    "status_heading": {"en": "Account health at a glance", "zh": "账户健康概览"},
    "charts_heading": {"en": "Each rate over time", "zh": "各项指标走势"},
    "recovery_heading": {"en": "Breaches and when they recover", "zh": "超标指标及恢复预测"},
    "drivers_heading": {"en": "What drives the defects", "zh": "缺陷来源"},
    "causes_heading": {"en": "Root causes recorded by analysts", "zh": "分析师记录的根本原因"},
    "quality_heading": {"en": "Data quality notes", "zh": "数据质量说明"},
    "no_causes": {"en": "No root causes recorded yet for this account.", "zh": "该账户尚未记录根本原因。"},
    "no_breach": {"en": "No metric is in breach.", "zh": "没有超标的指标。"},
    "no_breach_judged": {"en": "No metric that could be judged is in breach; not judged (partial or no data): {list}.",
                         "zh": "可判定的指标均未超标;无法判定(数据不完整或无数据):{list}。"},
    "no_notes": {"en": "All inputs were supplied; no warnings.", "zh": "所有输入均已提供,无警告。"},
    "by_component": {"en": "by defect type", "zh": "按缺陷类型"},
    "by_category": {"en": "by category", "zh": "按品类"},
    "by_carrier": {"en": "by carrier", "zh": "按承运商"},
    "by_week": {"en": "by week", "zh": "按周"},
    "defects": {"en": "Defects", "zh": "缺陷数"},
    "units": {"en": "Units", "zh": "总数"},
    "recovers_on": {"en": "Meets the target again on {date} if no new defect arrives",
                    "zh": "如无新增缺陷,将于 {date} 恢复达标"},
    "recovers_never": {"en": "Does not meet the target within the forecast horizon even with no new defect",
                       "zh": "即使没有新增缺陷,预测期内也无法恢复达标"},
    "pace_on": {"en": "At the recent pace ({pace} defects a day): {date}", "zh": "按近期速度(每天 {pace} 个缺陷):{date}"},
    "pace_never": {"en": "At the recent pace ({pace} defects a day): not at this pace",
                   "zh": "按近期速度(每天 {pace} 个缺陷):无法恢复"},
    "leaving": {"en": "Defects leaving the window", "zh": "缺陷移出窗口时间表"},
    "headline_safe": {"en": "{name} is safe this week: every rate meets its target.",
                      "zh": "{name} 本周安全:所有指标均达标。"},
    "headline_judged_ok": {"en": "{name} meets every target that could be judged this week.",
                           "zh": "{name} 本周可判定的指标均达标。"},
    "headline_risk": {"en": "{name} meets every target this week, but {n} rate(s) are close to the limit: {list}.",
                      "zh": "{name} 本周全部达标,但有 {n} 项指标接近上限:{list}。"},
    "headline_breach": {"en": "{name} needs action this week: {n} miss their target: {list}.",
                        "zh": "{name} 本周需要处理:{n} 项未达标:{list}。"},
    "headline_unjudged": {"en": "Not judged ({n}): {list}.", "zh": "无法判定({n} 项):{list}。"},
    "headline_advisory": {"en": "Below Amazon's recommended target, no action from Amazon ({n}): {list}.",
                          "zh": "低于亚马逊建议目标、亚马逊不采取措施({n} 项):{list}。"},
    "policy_breach_item": {"en": "policy: {category} ({n} open)", "zh": "政策:{category}({n} 项未处理)"},
    "data_stops": {"en": "the account's orders stop on {day}", "zh": "该账户订单截止于 {day}"},
    "data_stale": {"en": "stale data: the last order ({day}) is {weeks} weeks before the report's day",
                   "zh": "数据过旧:最后一笔订单({day})比报告日期早 {weeks} 周"},
    "events_after": {"en": "events (feedback, claims, chargebacks, returns) continue to {day}",
                     "zh": "事件(反馈、索赔、拒付、退货)持续到 {day}"},
    "headline_nodata": {"en": "{name}: no rate could be computed for this week.",
                        "zh": "{name}:本周无法计算任何指标。"},
    "missing_input": {"en": "Missing input", "zh": "缺少输入"},
    "warning": {"en": "Warning", "zh": "警告"},
    "report_title": {"en": "Account health report", "zh": "账户绩效周报"},
    "page_title": {"en": "perfkit weekly account report", "zh": "perfkit 账户绩效周报"},  # the page's <title>
    "window_days": {"en": "{n}d", "zh": "{n} 天"},  # a chart title's window, then its lag
    "lag_days": {"en": ", lag {n}d", "zh": ",滞后 {n} 天"},
    "index_title": {"en": "Portfolio account health", "zh": "账户组合绩效总览"},
    "generated": {"en": "Generated", "zh": "生成时间"},
    "week": {"en": "Week", "zh": "周"},
    "data_range": {"en": "Data", "zh": "数据范围"},
    "reason": {"en": "Reason", "zh": "原因"},
    "cause": {"en": "Cause", "zh": "原因"},
    "note": {"en": "Note", "zh": "备注"},
    "orders": {"en": "Orders", "zh": "订单"},
    "author": {"en": "Author", "zh": "记录人"},
    "period": {"en": "Period", "zh": "期间"},
    "product": {"en": "Product", "zh": "商品"},
    "buyer_comment": {"en": "Buyer's comment", "zh": "买家评论"},
    "claim_reason": {"en": "Claim reason", "zh": "索赔原因"},
    "examples": {"en": "Latest defective orders", "zh": "最近的缺陷订单"},
    "from_date": {"en": "From", "zh": "从"},
    "to_date": {"en": "To", "zh": "至"},
    "save": {"en": "Save", "zh": "保存"},
    "save_poa": {"en": "Save POA (.md)", "zh": "保存申诉计划 (.md)"},
    "tab_charts": {"en": "Charts", "zh": "图表"},
    "tab_drill": {"en": "Drill-down", "zh": "订单明细"},
    "tab_causes": {"en": "Root causes", "zh": "根本原因"},
    "tab_poa": {"en": "Plan of Action", "zh": "申诉计划 (POA)"},
    "why": {"en": "Why", "zh": "原因说明"},
    "why_breach": {"en": "misses Amazon's target ({target})", "zh": "未达到亚马逊目标({target})"},
    "why_warning": {"en": "past the warning level ({warn})", "zh": "已越过预警线({warn})"},
    "why_no_headroom": {"en": "meets the target, but one more defect in this window would miss it",
                        "zh": "目前达标,但窗口内再多一个缺陷就会超标"},
    "click_hint": {"en": "click a point to see its orders", "zh": "点击图上的点查看对应订单"},
    "defects_of": {"en": "{bad} defective of {units}", "zh": "{units} 个中有 {bad} 个缺陷"},
    "showing": {"en": "showing {lo}–{hi} of {total} defective", "zh": "显示第 {lo}–{hi} 个,共 {total} 个缺陷"},
    "download_csv": {"en": "download all {n} as CSV", "zh": "下载全部 {n} 条 (CSV)"},
    "previous": {"en": "← Previous", "zh": "← 上一页"},
    "next": {"en": "Next →", "zh": "下一页 →"},
    "select_all_defective": {"en": "Select all defective", "zh": "全选缺陷订单"},
    "saved_causes": {"en": "saved {n} cause(s) for {orders} order(s) at {time}",
                     "zh": "已于 {time} 为 {orders} 个订单保存 {n} 个原因"},
    "choose_cause": {"en": "choose a cause or type one first", "zh": "请先选择或填写原因"},
    "saved_to": {"en": "saved {path}", "zh": "已保存 {path}"},
    "col_order_id": {"en": "Order", "zh": "订单号"},
    "col_return_id": {"en": "Return", "zh": "退货编号"},
    "col_defect": {"en": "Defect", "zh": "缺陷类型"},
    "col_anchor_date": {"en": "Counted on", "zh": "计入日期"},
    "col_category": {"en": "Category", "zh": "品类"},
    "col_carrier": {"en": "Carrier", "zh": "承运商"},
    "col_buyer_comment": {"en": "Buyer's comment", "zh": "买家评论"},
    "col_claim_reason": {"en": "Claim reason", "zh": "索赔原因"},
    "col_component": {"en": "Defect type", "zh": "缺陷类型"},
    "col_defects": {"en": "Defects", "zh": "缺陷数"},
    "col_units": {"en": "Units", "zh": "总数"},
    "col_rate": {"en": "Rate", "zh": "比率"},
    "col_week": {"en": "Week", "zh": "周"},
    "other_cause": {"en": "Other cause, in your words", "zh": "其他原因(自行填写)"},
    # POA and root-cause tabs (issue #21)
    "kept_edits": {"en": "your edits to the draft were kept (the letter itself is in English)",
                   "zh": "已保留您对草稿的修改(申诉信本身为英文)"},
    "poa_none": {"en": "no Plan of Action for this metric: {reason}", "zh": "此指标无需申诉计划:{reason}"},
    "nothing_to_save": {"en": "nothing to save: no draft is shown", "zh": "没有可保存的草稿"},
    "remove_cause": {"en": "Remove", "zh": "删除"},
    "edit_cause": {"en": "Edit", "zh": "编辑"},
    "recorded_pick": {"en": "Recorded", "zh": "已记录"},
    "removed_cause": {"en": "removed: {cause}", "zh": "已删除:{cause}"},
    "editing_cause": {"en": "editing {cause}: change it and save (the old record is replaced)",
                      "zh": "正在编辑 {cause}:修改后保存(替换原记录)"},
    # alerts (perfkit report --notify)
    "alert_title": {"en": "perfkit: {n} change(s) in account health, week to {day}",
                    "zh": "perfkit:账户健康有 {n} 项变化,截至 {day} 的一周"},
    "alert_breach": {"en": "NEW BREACH", "zh": "新超标"},
    "alert_at_risk": {"en": "now at risk", "zh": "新风险"},
    "alert_recovered": {"en": "recovered", "zh": "已恢复"},
    "alert_failed": {"en": "report FAILED: {reason}", "zh": "报告失败:{reason}"},
    "alert_stale": {"en": "data is stale: last day {last} ({days} days old)",
                    "zh": "数据已过期:最后一天 {last}(已 {days} 天)"},
    "alert_value": {"en": "{rate} against target {target}", "zh": "{rate},目标 {target}"},
    "alert_headroom": {"en": "{n} more defect(s) allowed", "zh": "还可容许 {n} 个缺陷"},
    "alert_over": {"en": "{n} defect(s) over", "zh": "超出 {n} 个缺陷"},
    "portfolio_weeks": {"en": "The last weeks, worst first", "zh": "最近几周(最差在前)"},
    "alert_poa_due": {"en": "Plan of Action due within {days} days of Amazon's notice",
                      "zh": "收到亚马逊通知后 {days} 天内提交行动计划"},
    "alert_claims_due": {"en": "answer A-to-z requests within {hours} h, chargebacks within {days} days",
                         "zh": "A-to-z 索赔信息请求须在 {hours} 小时内答复,信用卡拒付须在 {days} 天内答复"},
    "alert_index": {"en": "All accounts: {link}", "zh": "全部账户:{link}"},
    "alert_more": {"en": "… and {n} more account(s), left out to fit this channel's limit",
                   "zh": "……另有 {n} 个账户未列出(超出该渠道的消息长度上限)"},
    # the explorer's own messages (never a command-line flag)
    "start_label": {"en": "From", "zh": "开始日期"},
    "end_label": {"en": "To", "zh": "结束日期"},
    "date_empty": {"en": "{field} cannot be empty: still {day}", "zh": "{field}不能为空:仍为 {day}"},
    "date_outside": {"en": "{field} {day} is outside this account's data ({first} to {last}): not used",
                     "zh": "{field} {day} 超出该账户的数据范围({first} 至 {last}):未采用"},
    "date_order": {"en": "From ({start}) is after To ({end}): not used", "zh": "开始日期({start})晚于结束日期({end}):未采用"},
    "day_outside": {"en": "{day} is outside the period shown ({start} to {end}): not used",
                    "zh": "{day} 不在当前显示的期间内({start} 至 {end}):未采用"},
    "data_span": {"en": "data: {first} to {last}", "zh": "数据范围:{first} 至 {last}"},
    "no_dates": {"en": "no dated orders", "zh": "没有带日期的订单"},
    "no_account_json": {"en": "no account.json: times read as {tz}, marketplace unknown (add account.json with "
                               "name, marketplace and timezone)",
                        "zh": "缺少 account.json:时间按 {tz} 读取,站点未知(请添加含 name、marketplace、timezone 的 account.json)"},
    "load_warnings": {"en": "{n} warning(s) from loading this account", "zh": "加载该账户时有 {n} 条提示"},
    "hide": {"en": "Hide", "zh": "隐藏"},
    "refused_folder": {"en": "{account}: not opened: {reason}", "zh": "{account}:无法打开:{reason}"},
    "stale_click": {"en": "that click was on the chart shown before: click again", "zh": "该点击属于之前显示的图表:请重新点击"},
    "lines_meet": {"en": "lines meet at this point: the segment is the picker's ({segment})",
                   "zh": "此处多条线重合:细分以选择框为准({segment})"},
    "breach_picker": {"en": "Breach", "zh": "超标期间"},
    "whole_period": {"en": "whole period", "zh": "整个期间"},
}


def t(key: str, lang: str = "en", **fields: object) -> str:
    """The label for ``key`` in ``lang`` (English when no translation exists), with fields filled.

    Parameters
    ----------
    key : str
        The label's key in :data:`TEXT` (an unknown key is shown as it is).
    lang : str
        ``en`` or ``zh``.
    **fields
        Values for the label's ``{placeholders}``.
    """
    entry = TEXT.get(key)
    text = key if entry is None else entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


def metric_name(metric: str, lang: str, policy: Policy) -> str:
    """A metric's name in ``lang``, as the policy gives it (its id when the policy has none).

    Parameters
    ----------
    metric : str
        The metric id.
    lang : str
        ``en`` or ``zh``.
    policy : Policy
        Holds the names.
    """
    return policy[metric].name(lang) if metric in policy.metrics else metric


def segment_name(segment: str, lang: str = "en") -> str:
    if segment.startswith("category="):
        return segment.split("=", 1)[1]
    return t(segment, lang)


def check_lang(lang: str) -> str:
    from perfkit.core.errors import PerfkitError

    if lang not in LANGS:
        raise PerfkitError(f"language {lang!r} is not available; choose en or zh")
    return lang


# What a missing input means, keyed by the note as the metric (or column) declares it in English
# (perfkit.engine.registry.input_notes): the Chinese a zh page shows. English pages show the key.
INPUT_NOTES_ZH: dict[str, str] = {
    "negative feedback is not counted in ODR": "订单缺陷率不计入差评",
    "A-to-z claims are not counted in ODR": "订单缺陷率不计入亚马逊商城交易保障索赔",
    "chargebacks are not counted in ODR": "订单缺陷率不计入信用卡拒付",
    "the negative feedback rate has no data": "差评率没有数据",
    "the A-to-z claim rate has no data": "亚马逊商城交易保障索赔率没有数据",
    "the chargeback rate has no data": "信用卡拒付率没有数据",
    "every cancellation counts as the seller's": "每次取消都算作卖家取消",
    "Late Shipment Rate has no data": "迟发率没有数据",
    "Valid Tracking Rate has no data": "有效追踪率没有数据",
    "Valid Tracking Rate has no data (Amazon places shipments by their promised delivery date)":
        "有效追踪率没有数据(亚马逊按承诺送达日期归入货件)",
    "Valid Tracking Rate has no per-category figures": "有效追踪率没有按品类的数据",
    "On-Time Delivery Rate has no data": "准时送达率没有数据",
    "On-Time Delivery Rate has no data (no delivery date in any row: lateness cannot be judged)":
        "准时送达率没有数据(所有行都没有送达日期:无法判断是否延迟)",
    "Invoice Defect Rate has no data": "发票缺陷率没有数据",
    "Invoice Defect Rate has no data (no invoice upload date in any row: Amazon's order reports do not carry it)":
        "发票缺陷率没有数据(所有行都没有发票上传日期:亚马逊的订单报告不含此项)",
    "Return Dissatisfaction Rate has no data": "退货不满意率没有数据",
    "Return Dissatisfaction Rate counts no late response (its late-response component has no data)":
        "退货不满意率不计延迟回复(其延迟回复部分没有数据)",
    "Refund rate has no data": "退款率没有数据",
    "the return rate has no data": "退货率没有数据",
    "policy-compliance counts come only from Amazon's kept reports": "政策合规计数仅来自已保存的亚马逊报告",
    "drill-downs cannot name carriers": "明细分析无法列出承运商",
    "tracking validity comes from tracking_valid alone": "追踪有效性仅取自 tracking_valid 列",
    "late responses cannot be judged": "无法判断回复是否延迟",
}


def input_note_text(item: str, notes: list[str], lang: str = "en") -> str:
    """The line a page shows for a missing input: ``missing input <item>: <notes>``, in ``lang``
    (English is byte-identical to ``perfkit check``'s)."""
    shown = [INPUT_NOTES_ZH.get(n, n) for n in notes] if lang == "zh" else notes
    return t("missing_input_note", lang, item=item, notes=("; " if lang != "zh" else ";").join(shown)
             or t("not_used", lang))
