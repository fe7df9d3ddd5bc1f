"""What a Plan of Action proposes: actions and preventive measures, as items to confirm.

perfkit cannot know what the seller did. Each item is written as something to do, filled with
the account's own facts ({n} affected units, {orders}, {carriers}, {categories}, {rate}), and the
draft shows it unticked with an owner and a date to fill in: the analyst confirms, edits or deletes
it. Numbers that only the seller can promise (hours, days) are left as blanks.

Beside each cause's own items, each defect component brings what Amazon itself recommends for it
(Seller Central's help pages on each metric: Buy Shipping and the carriers of the Confirm shipment
drop-down for tracking and delivery, shipping-settings automation and handling times for late
shipments, the VAT Calculation Service for invoices, feedback removal, A-to-z representation and
chargeback responses for the Order Defect Rate), and each family its own list of documents.
"""
from __future__ import annotations

# cause key -> (actions, preventive measures)
ACTIONS: dict[str, tuple[list[str], list[str]]] = {
    "logistics": (
        ["Check the tracking of the {n} affected orders ({orders}) with {carriers}: reship or refund the parcels "
         "that never arrived, and apologise to the buyers of the late ones"],
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
    "category_concentrated": (
        ["Review the listings, stock and supplier of {categories}, where the {n} affected orders ({orders}) are "
         "concentrated, and correct what caused them"],
        ["Check each category's defects every week and act on a category whose share stands out"]),
    "cancel_after_ship_by": (
        ["Find why the {n} orders ({orders}) were still unsent at their ship-by date and were cancelled "
         "afterwards, and contact those buyers"],
        ["Lengthen the handling time to what the warehouse achieves, and flag at import every order that "
         "cannot ship by its ship-by date so that it is sent or the buyer is told the same day"]),
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
        ["Find why the {n} orders ({orders}) were confirmed hours after their ship-by deadline although they "
         "were ready, and confirm every shipped order before the carrier's pick-up"],
        ["Confirm shipment automatically when the carrier label is printed (Buy Shipping confirms it itself)"]),
    "handling_time_short": (
        ["Lengthen the handling time in the shipping settings to what the warehouse really achieves (the {n} "
         "late orders were confirmed a day or more after their ship-by date)"],
        ["Turn on the shipping-settings automation so that handling and transit times follow what is measured",
         "Compare handling time with actual dispatch times every month"]),
    "untrained_staff": (
        ["Train the staff who confirm shipments and upload tracking on Amazon's rules for these orders"],
        ["Train new staff before they handle orders, and check their work in their first weeks"]),
    "carrier_no_tracking": (
        ["Move the lanes shipped with {carriers} to a carrier Amazon integrates (chosen from the carrier drop-down "
         "on Confirm shipment) or to labels bought through Buy Shipping",
         "Re-enter the carrier and tracking id of the {n} affected shipments ({orders}) where the parcel went with "
         "an integrated carrier under another name"],
        ["Allow only carriers from Amazon's drop-down in the shipping software; never type a carrier name or "
         "choose 'Other'", "Check the valid tracking rate per carrier and per category every week"]),
    "carrier_no_updates": (
        ["Ask {carriers} why the tracking of the {n} affected shipments shows no scan after pick-up"],
        ["Use services that scan parcels at pick-up and on the way"]),
    "fake_tracking": (
        ["Correct the tracking numbers or carriers that did not belong to the shipments ({orders})"],
        ["Upload tracking numbers from the label file with the carrier it names, never typed by hand"]),
    "tracking_wrong": (
        ["Replace the placeholders uploaded as tracking ids on the {n} affected shipments ({orders}) with the "
         "carrier's real ids in Manage Orders, while the orders are not yet delivered"],
        ["Refuse a confirmation whose tracking id is a placeholder; upload ids from the label file, never by hand"]),
    "no_tracking_id": (
        ["Add the carrier's tracking ids to the {n} shipments confirmed without one ({orders}) in Manage Orders, "
         "while the orders are not yet delivered"],
        ["Confirm shipment only with a tracking id: buy labels through Amazon's Buy Shipping, which uploads the "
         "id itself, or upload ids from the carrier's label file"]),
    "not_confirmed": (
        ["Confirm the {n} orders past their ship-by date that were shipped ({orders}), and cancel with the buyer's "
         "agreement the ones that cannot ship"],
        ["Check every day before the carrier's pick-up for orders whose ship-by date is today and that are not "
         "yet confirmed"]),
    "invoice_late": (
        ["Upload the {n} late invoices that are still missing from Seller Central and find why each was late "
         "({orders})"],
        ["Upload each business order's invoice on the day of shipment confirmation, at the latest on the first "
         "business day after it"]),
    "tracking_late": (
        ["Upload the tracking ids missing at confirmation for the {n} affected shipments"],
        ["Confirm shipment only together with its tracking id"]),
    "confirm_before_ship": (
        ["Stop confirming shipment before the parcel is handed to the carrier"],
        ["Confirm only after the carrier's first scan"]),
    "carrier_slow": (
        ["Move the lanes of {carriers} that delivered late to faster services, or to Buy Shipping services whose "
         "delivery promise Amazon backs", "Contact the buyers of the {n} late parcels ({orders})"],
        ["Compare promised and actual delivery times per carrier every week, and set each lane's transit time in "
         "the shipping template from what the carrier achieves"]),
    "transit_time_setting": (
        ["Lengthen the transit times in the shipping templates to what {carriers} achieve"],
        ["Review shipping templates every month against measured delivery times"]),
    "no_invoice_upload": (
        ["Upload the missing invoices for the {n} business orders ({orders})"],
        ["Generate and upload invoices for business orders at shipment confirmation"]),
    "no_vcs": (
        ["Enrol in Amazon's VAT Calculation Service so that Amazon issues the invoices, or upload them from an "
         "invoicing provider connected to it"],
        ["List business orders shipped without an invoice every day"]),
    "vat_exemption": (
        ["Declare the VAT exemption in Seller Central and upload the invoices it covers"],
        ["Check the tax settings whenever the business's VAT status changes"]),
    "slow_response": (
        ["Answer every open return request; {n} were answered after the deadline or not at all ({orders})"],
        ["Turn on automatic authorisation of return requests that are within Amazon's return policy",
         "Answer the others within ____ hours, weekends included, with a named owner each day"]),
    "wrongful_rejection": (
        ["Reverse the rejections that did not follow Amazon's return policy and refund those buyers"],
        ["Have a second person approve every return rejection"]),
    "unresolved_return": (
        ["Resolve the open return requests ({orders}) with the buyers"],
        ["Review open return requests every day until each is closed"]),
    "not_refunded": (
        ["Refund the returned items that were received but not refunded ({orders})"],
        ["Refund within ____ days of an item arriving back, checked weekly"]),
    "other": (["Address the cause described above for the {n} affected units"],
              ["Monitor this cause weekly until the rate is back within target"]),
}

# component -> (actions, preventive measures) that Amazon recommends for that kind of defect
COMPONENT_ACTIONS: dict[str, tuple[list[str], list[str]]] = {
    "negative_feedback": (
        ["Ask for the removal of negative feedback that is about delivery by Amazon, is a product review, or "
         "contains obscene or personal details (Feedback Manager: request removal); answer the rest publicly "
         "and contact those buyers"],
        ["Read every new feedback daily and contact an unhappy buyer before the feedback is left"]),
    "a_to_z_claim": (
        ["Represent each open A-to-z claim in the Performance notifications with the tracking and delivery "
         "evidence, within the deadline Amazon gives in the claim notice"],
        ["Resolve delivery and refund requests with the buyer before a claim is filed"]),
    "chargeback": (
        ["Answer each chargeback request from Amazon with the order's proof of delivery within the deadline in "
         "its notice"],
        ["Keep tracking with a delivery scan for every order, so that any chargeback can be answered"]),
    "seller_cancellation": (
        ["Check each cancelled order: one the buyer asked to cancel must be cancelled with the reason 'buyer "
         "canceled' (Amazon then does not count it); for the others, find the SKU that could not ship"],
        ["Update inventory in Seller Central from the warehouse stock the same day it changes, so that an item "
         "out of stock stops selling before it must be cancelled"]),
    "invalid_tracking": (["Check the carrier and tracking id of each affected shipment in Manage Orders and correct "
                          "the ones entered wrong while the order is not yet delivered (Amazon's figure follows "
                          "within 72 hours)"], ["Buy labels through Amazon's Buy Shipping where the lane allows it: its tracking is "
                              "uploaded and valid by default"]),
    "late_delivery": ([], ["Use Buy Shipping services or integrated carriers whose delivery dates Amazon backs"]),
    "late_shipment": ([], ["Keep the handling time in the shipping settings at what the warehouse achieves"]),
    "missing_invoice": ([], ["Use Amazon's VAT Calculation Service, or upload invoices from a provider connected to "
                             "it, so that every business order gets its invoice within one business day"]),
}

# family -> what to attach to a letter for that metric
DOCUMENTS: dict[str, list[str]] = {
    "odr": ["The evidence CSV written with this draft (order ids, defect, dates, carrier, what the buyer said)",
            "For the delivery defects: the carrier's tracking pages with their delivery scans",
            "For product or listing causes: the corrected listing and the inspection record of the batch"],
    "cancel_rate": ["The evidence CSV written with this draft (the cancelled orders)",
                    "The inventory report of the SKUs that were cancelled, before and after the fix"],
    "late_shipment": ["The evidence CSV written with this draft (ship-by and confirmation times)",
                      "A screenshot of the shipping settings with the corrected handling time"],
    "valid_tracking_rate": ["The evidence CSV written with this draft (tracking id and carrier as uploaded)",
                            "The Valid Tracking ID report from Seller Central for the same window",
                            "For corrected shipments: the carrier's tracking pages with their first scan"],
    "on_time_delivery_rate": ["The evidence CSV written with this draft (promised and actual delivery dates)",
                              "The carrier's tracking pages of the late parcels",
                              "A screenshot of the shipping template with the corrected transit times"],
    "invoice_defect_rate": ["The evidence CSV written with this draft (business orders and upload dates)",
                            "A screenshot of the VAT Calculation Service enrolment or of the invoice uploads"],
    "return_dissatisfaction_rate": ["The evidence CSV written with this draft (requests and response times)",
                                    "A screenshot of the return settings (automatic authorisation)"],
}
