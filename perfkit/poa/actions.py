"""What a Plan of Action proposes per cause: actions and preventive measures, as items to confirm.

perfkit cannot know what the seller did. Each item is written as something to do, filled with
the account's own facts ({n} affected orders, {orders}, {carriers}, {categories}, {rate}), and the
draft shows it unticked with an owner and a date to fill in: the analyst confirms, edits or deletes
it. Numbers that only the seller can promise (hours, days) are left as blanks.
"""
from __future__ import annotations

# cause key -> (actions, preventive measures)
ACTIONS: dict[str, tuple[list[str], list[str]]] = {
    "logistics": (
        ["Contact the buyers of the {n} affected orders ({orders}) and reship or refund the parcels that did not "
         "arrive", "Open trace requests with {carriers} for the parcels still without a delivery scan"],
        ["Move the affected lanes to services with end-to-end tracking and a delivery scan",
         "Review late and lost parcels by carrier every week"]),
    "out_of_stock": (
        ["Pause the listings in {categories} that sold without stock",
         "Reconcile Seller Central's inventory with the warehouse for the SKUs of the {n} affected orders"],
        ["Set a safety-stock level per SKU and alert below it",
         "Synchronise inventory from the warehouse system to Amazon every ____ minutes"]),
    "listing_mismatch": (
        ["Compare the listings of the {n} affected orders ({categories}) with the items shipped and correct "
         "titles, images and size charts that differ"],
        ["Check every listing change against a physical sample before it goes live"]),
    "damaged_packaging": (
        ["Inspect returned parcels of the affected orders and strengthen the packaging for {categories}"],
        ["Test new packaging before use and review damage-related feedback weekly"]),
    "customer_service": (
        ["Answer every open buyer message and offer a resolution to the {n} buyers behind the defects"],
        ["Answer buyer messages within ____ hours, with a named owner each day"]),
    "product_quality": (
        ["Stop selling the batch linked to the complaints in {categories} and refund or replace the affected "
         "buyers ({orders})"],
        ["Sample and inspect every incoming batch before it is listed; track supplier defects by batch"]),
    "unrequested_cancel": (
        ["Review the {n} cancelled orders ({orders}) and stop cancelling orders the buyer did not ask to cancel"],
        ["Restrict cancellation to trained staff and log each one with its reason"]),
    "carrier_pickup": (
        ["Agree a fixed daily pick-up time with {carriers}"],
        ["Check pick-up scans daily and send parcels with a backup carrier when a pick-up is missed"]),
    "erp_sync": (
        ["Fix the order-sync job between the ERP and Amazon and re-import the {n} affected orders"],
        ["Alert when no Amazon order has been imported for ____ minutes during business hours"]),
    "stock_problem": (
        ["Restock the SKUs whose orders shipped late"],
        ["Flag orders for items below safety stock at import so they are picked first"]),
    "late_confirmation": (
        ["Confirm every shipped order in Seller Central the same day and clear the {n} late confirmations"],
        ["Confirm shipment automatically when the carrier label is printed"]),
    "handling_time_short": (
        ["Lengthen the handling time in the shipping settings to what the warehouse really achieves"],
        ["Compare handling time with actual dispatch times every month"]),
    "untrained_staff": (
        ["Train the staff who confirm shipments and upload tracking on Amazon's rules for these orders"],
        ["Train new staff before they handle orders, and check their work in their first weeks"]),
    "carrier_no_tracking": (
        ["Stop using {carriers} for seller-fulfilled orders if Amazon does not recognise its tracking (valid "
         "tracking was {rate} in the window)", "Upload corrected tracking ids where the carrier can supply them"],
        ["Allow only carriers whose tracking Amazon recognises in the shipping software",
         "Check the valid tracking rate per carrier and per category every week"]),
    "carrier_no_updates": (
        ["Ask {carriers} why the tracking of the {n} affected shipments shows no scan after pick-up"],
        ["Use services that scan parcels at pick-up and on the way"]),
    "fake_tracking": (
        ["Correct the tracking numbers or carriers that did not belong to the shipments ({orders})"],
        ["Upload tracking numbers from the label file with the carrier it names, never typed by hand"]),
    "tracking_wrong": (
        ["Correct the mistyped or missing tracking ids of the affected shipments ({orders})"],
        ["Upload tracking ids from the label file, never by hand"]),
    "tracking_late": (
        ["Upload the tracking ids missing at confirmation for the {n} affected shipments"],
        ["Confirm shipment only together with its tracking id"]),
    "confirm_before_ship": (
        ["Stop confirming shipment before the parcel is handed to the carrier"],
        ["Confirm only after the carrier's first scan"]),
    "carrier_slow": (
        ["Move the slowest lanes of {carriers} to faster services and contact the buyers of late parcels"],
        ["Compare promised and actual delivery times per carrier every week"]),
    "transit_time_setting": (
        ["Lengthen the transit times in the shipping templates to what {carriers} achieve"],
        ["Review shipping templates every month against measured delivery times"]),
    "no_invoice_upload": (
        ["Upload the missing invoices for the {n} business orders ({orders})"],
        ["Generate and upload invoices for business orders at shipment confirmation"]),
    "no_vcs": (
        ["Enrol in Amazon's VAT Calculation Service so invoices are issued automatically"],
        ["List business orders shipped without an invoice every day"]),
    "vat_exemption": (
        ["Declare the VAT exemption in Seller Central and upload the invoices it covers"],
        ["Check the tax settings whenever the business's VAT status changes"]),
    "slow_response": (
        ["Answer every open return request ({n} answered late)"],
        ["Answer return requests within ____ hours, weekends included"]),
    "wrongful_rejection": (
        ["Reverse the rejections that did not follow Amazon's return policy and refund those buyers"],
        ["Have a second person approve every return rejection"]),
    "unresolved_return": (
        ["Resolve the open return requests ({orders}) with the buyers"],
        ["Review open return requests every day until each is closed"]),
    "not_refunded": (
        ["Refund the returned items that were received but not refunded ({orders})"],
        ["Refund within ____ days of an item arriving back, checked weekly"]),
    "other": (["Address the cause described above for the {n} affected orders"],
              ["Monitor this cause weekly until the rate is back within target"]),
}

# What Amazon's reviewers ask to see beside a POA (the seeds' list), per kind of evidence.
DOCUMENTS = [
    "The orders of the last three months (the evidence CSV written with the draft is a start)",
    "Proof of delivery: carrier tracking pages or screenshots with delivery scans, signed receipts",
    "Tracking numbers and carriers of the affected shipments, as uploaded to Amazon",
    "Supplier invoices or purchase contracts for the ASINs concerned",
]
