"""A Plan of Action for a policy-compliance category (an IP complaint, a variation violation, ...).

Amazon asks for the same three parts as for a rate: the root causes, the actions taken, the
measures that prevent a repeat. The facts come from the account's own notices (ASINs, dates,
what the notice said) and Amazon's kept count; the causes from the analyst's choices (else the
category's usual causes are offered, marked as suggestions). perfkit cannot know what the
seller did: actions are written as items for the analyst to confirm, with an owner and a date,
never as facts. A category with no open notice and no count over Amazon's target needs no POA.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from perfkit.poa.causes import CATALOGUE, CauseStore, cause_label
from perfkit.poa.draft import seller
from perfkit.poa.safe import md_text
from perfkit.engine.context import AccountContext
from perfkit.views.health import compliance_table
from perfkit.loading.schema import category_name

# cause key -> (action to confirm, prevention to confirm): the analyst fills in who and when.
POLICY_ACTIONS: dict[str, tuple[str, str]] = {
    "unauthorised_brand": ("Removed the listings {asins} that used a brand or trademark we are not authorised to sell",
                           "Check every new listing's brand against our authorisation letters before it goes live"),
    "copied_content": ("Replaced the images and text of {asins} that were copied from another seller's listing",
                       "Use only images we shot or licensed, and keep the licence with the listing"),
    "no_invoice_proof": ("Gathered supplier invoices that prove the authenticity of {asins}",
                         "Buy only from suppliers who issue invoices naming the brand, and keep them for a year"),
    "counterfeit_supply": ("Stopped selling the stock of {asins} from the supplier behind the complaints",
                           "Audit new suppliers and inspect the first batch before listing it"),
    "used_sold_as_new": ("Withdrew returned or opened units of {asins} that were resold as new",
                         "Grade every returned unit before it goes back to sellable stock"),
    "unsafe_product": ("Stopped selling {asins} and checked them against the safety standard named in the notice",
                       "Keep test reports and certificates for every product before listing it"),
    "variation_unrelated": ("Split the variation family of {asins}: unrelated products had been merged to share "
                            "reviews", "Create a variation only for the same product in another size, colour or "
                            "style, checked by a second person"),
    "variation_theme": ("Changed the variation theme of {asins} to the attribute that really differs",
                        "Review variation themes whenever a child item is added"),
    "parent_changed": ("Restored {asins} under the parent whose brand and product they belong to",
                       "Never change the brand or product of an existing parent; create a new listing instead"),
    "restricted_listing": ("Removed {asins}, which are restricted products without the required approval",
                           "Check Amazon's restricted-products list before sourcing a new product"),
    "review_manipulation": ("Stopped the practice behind the review notice on {asins} (incentives or requests "
                            "for positive reviews)", "Ask for reviews only through Amazon's own request button"),
    "documents_missing": ("Sent the documents Amazon requested for {asins}",
                          "Keep certificates, invoices and test reports ready per ASIN"),
    "other": ("Addressed the cause described above for {asins}", "Review this cause every week until the notices stop"),
}


# Causes that admit a breach (counterfeit goods, resold used units, unauthorised brands, bought reviews...):
# suggested only when the notice's own words name them, never offered on a guess -> the words.
ADMITTING: dict[str, tuple[str, ...]] = {
    "unauthorised_brand": ("not authorized", "not authorised", "unauthorized", "unauthorised", "未授权"),
    "copied_content": ("copyright", "copied", "image", "版权", "盗图"),
    "counterfeit_supply": (),  # a complaint saying "counterfeit" is the accusation, not its cause
    "used_sold_as_new": ("used", "opened", "二手", "使用过"),
    "variation_unrelated": ("unrelated", "不相关"),
    "review_manipulation": ("incentiv", "review", "评论", "好评"),
    "restricted_listing": ("restricted", "受限"),
}
_IP = ["The rights owner's retraction of the complaint, if the listing did not infringe (ask the contact named "
       "in the notice)", "Or: the rights owner's letter of authorisation or licence to sell the brand",
       "Supplier invoices for the ASINs, naming the brand, from the last 365 days"]
# category -> what Amazon accepts beside a letter for it
POLICY_DOCUMENTS: dict[str, list[str]] = {
    "receivedIntellectualPropertyComplaints": _IP,
    "suspectedIntellectualPropertyViolations": _IP,
    "productAuthenticityCustomerComplaints": [
        "Supplier invoices or receipts issued in the last 365 days, covering the units sold in that time, with "
        "the supplier's name, address, phone and website (prices may be hidden)",
        "If you are not the brand owner: the brand's letter of authorisation and the documents of the supply chain"],
    "productConditionCustomerComplaints": ["The written grading procedure for returned units, with a photo of how "
                                           "a graded unit is labelled"],
    "productSafetyCustomerComplaints": ["The test reports and certificates the notice names, for each ASIN"],
    "foodAndProductSafetyIssues": ["The test reports and certificates the notice names, for each ASIN"],
    "listingPolicyViolations": ["Screenshots of the corrected listings (variation family, theme, brand)"],
    "restrictedProductPolicyViolations": ["Amazon's approval to sell the product, or proof that it was removed"],
    "documentRequests": ["The documents named in Amazon's request, one file per ASIN"],
}
_IP_ACTIONS = {"receivedIntellectualPropertyComplaints", "suspectedIntellectualPropertyViolations"}


def suggestions(category: str, notices: pd.DataFrame, limit: int = 2) -> list[str]:
    """The category's usual causes to offer when none is recorded; a cause that admits a breach only
    when a notice's own words name it."""
    words = " ".join(str(t) for t in notices.get("text", pd.Series(dtype=object)).dropna()).lower()
    keys = [k for k, *_ in CATALOGUE.get(category, [])]
    keys = [k for k in keys if k not in ADMITTING or any(w in words for w in ADMITTING[k])]
    return keys[:limit]


def draft_policy_poa(ctx: AccountContext, category: str, day: dt.date, causes: pd.DataFrame | None = None) -> str:
    """The Markdown draft for one policy category as of ``day`` (or why none is needed).

    Parameters
    ----------
    ctx : AccountContext
        The account (its notices and kept reports).
    category : str
        Amazon's category key (:data:`perfkit.loading.schema.POLICY_CATEGORIES`).
    day : date
        The day the draft is for.
    causes : DataFrame, optional
        The analyst's chosen causes (``cause``, ``free_text``, ``note``); none: suggestions.
    """
    name = category_name(category)
    table, _ = compliance_table(ctx, day)
    row = table[table["category"] == category]
    if not len(row) or row["status"].iat[0] not in ("breach",):
        return (f"# {seller(ctx)}: {name}\n\nNo POA needed: as of {day} there is no open notice in this "
                f"category and Amazon's kept count meets its target.\n")
    notices = ctx.account.policy_notices
    window_start = day - dt.timedelta(days=ctx.policy.notice_lookback_days - 1)
    local = notices["notice_date"].dt.tz_convert(ctx.account.timezone).dt.date
    mine = notices[(notices["category"] == category) & (local >= window_start) & (local <= day)]
    mine = mine.assign(day=local[mine.index])
    asins = ", ".join(dict.fromkeys(md_text(a) for a in mine["asin"].dropna())) or "the affected ASINs"
    r = row.iloc[0]
    lines = [f"# Plan of Action: {name}", "",
             f"Seller: {seller(ctx)} · as of {day}", "",
             f"In the {ctx.policy.notice_lookback_days} days to {day} we received {int(r.notices)} notice(s) in this "
             f"category, {int(r.open)} still open or under appeal"
             + (f"; Amazon's latest report counts {int(r.amazon)}" if pd.notna(r.amazon) else "") + ".", ""]
    for n in mine.sort_values("day").itertuples():
        lines.append(f"- {n.day}: ASIN {md_text(n.asin) or '?'} ({n.status}): {md_text(n.text) or 'no text given'}")
    chosen = causes if causes is not None and len(causes) else None
    if chosen is None:
        keys = suggestions(category, mine)
        chosen = pd.DataFrame({"cause": keys, "free_text": "", "note": ""})
        lines += ["", "_No cause recorded yet: the causes below are suggestions for this category; record the "
                  "real ones in the explorer or with the causes database._" if keys else
                  "_No cause recorded yet, and the notices name none. Causes that would admit a breach (counterfeit "
                  "or used goods, an unauthorised brand) are never suggested: find the real cause, record it, and "
                  "only then write this part._"]
    lines += ["", "## 1. Root causes", ""]
    for c in chosen.itertuples():
        label = cause_label(category, c.cause, "en", c.free_text)
        lines.append(f"- {md_text(label)} (ASINs {asins})" + (f": {md_text(c.note)}" if c.note else ""))
    lines += ["", "## 2. Actions taken (to confirm: who did it, and when)", ""]
    if category in _IP_ACTIONS:
        lines.append(f"- [ ] Contacted the rights owner named in the notice about {asins} and asked for a retraction "
                     "(or for a letter of authorisation). Owner: ____ Date: ____")
    for c in chosen.itertuples():
        action = POLICY_ACTIONS.get(c.cause, POLICY_ACTIONS["other"])[0].format(asins=asins)
        lines.append(f"- [ ] {action}. Owner: ____ Date: ____")
    lines += ["", "## 3. Preventive measures (to confirm)", ""]
    for c in chosen.itertuples():
        lines.append(f"- [ ] {POLICY_ACTIONS.get(c.cause, POLICY_ACTIONS['other'])[1]}. Owner: ____ From: ____")
    documents = POLICY_DOCUMENTS.get(category, [])
    if documents:
        lines += ["", "## Documents to attach", ""] + [f"- [ ] {d}" for d in documents]
    return "\n".join(lines) + "\n"


def policy_poa_for(ctx: AccountContext, category: str, day: dt.date, causes_db: str | Path | None = None) -> str:
    """:func:`draft_policy_poa` with the causes recorded for this account and category."""
    recorded = None
    if causes_db and Path(causes_db).is_file():
        recorded = CauseStore(causes_db).current(ctx.account_id, category)
    return draft_policy_poa(ctx, category, day, recorded)


def as_date(ctx: AccountContext, as_of: object) -> dt.date:
    """An as-of day (default: the last day of data) as a date."""
    return pd.Timestamp(as_of).date() if as_of else ctx.last_day.date()

