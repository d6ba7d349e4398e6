// In an application: `from 'kugel-comms/kugelpos'`.
import type { TransactionDiscount, TransactionDocument } from '../../lib/kugelpos';
import { Tranlog, TranlogDiscount } from '../shared/tranlog';

/**
 * A transaction log as the Kugelpos cart's transaction list answers it (its `Tran` schema,
 * camelCase): the totals at the top level (`totalAmount` is the amount with tax, as the cart
 * sends it), `depositAmount` summed over the payments, line items with `itemName`, payments with
 * `paymentName`/`paymentAmount`/`paymentDetail`, the flags under `status`. What the list does not
 * carry (user, counters, origin, the stored-document fields, `event_id`) is left out.
 */
export function transactionDocument(t: Tranlog): TransactionDocument {
  return {
    tenantId: t.tenant_id,
    storeCode: t.store_code,
    storeName: t.store_name,
    terminalNo: t.terminal_no,
    totalAmount: t.sales.total_amount_with_tax,
    totalAmountWithTax: t.sales.total_amount_with_tax,
    totalQuantity: t.sales.total_quantity,
    totalDiscountAmount: t.sales.total_discount_amount,
    depositAmount: t.payments.reduce((sum, p) => sum + p.deposit_amount, 0),
    changeAmount: t.sales.change_amount,
    stampDutyAmount: t.sales.stamp_duty_amount,
    receiptNo: t.receipt_no,
    transactionNo: t.transaction_no,
    transactionType: t.transaction_type,
    businessDate: t.business_date,
    generateDateTime: t.generate_date_time,
    lineItems: t.line_items.map((l) => ({
      lineNo: l.line_no,
      itemCode: l.item_code,
      itemName: l.description,
      categoryCode: l.category_code,
      unitPrice: l.unit_price,
      unitPriceOriginal: l.unit_price_original,
      isUnitPriceChanged: l.is_unit_price_changed,
      quantity: l.quantity,
      amount: l.amount,
      discounts: l.discounts.map(discount),
      imageUrls: [],
      isCancelled: l.is_cancelled,
      isDiscountRestricted: false,
    })),
    payments: t.payments.map((p) => ({
      paymentNo: p.payment_no,
      paymentCode: p.payment_code,
      paymentName: p.description,
      paymentAmount: p.amount,
      paymentDetail: p.detail,
    })),
    taxes: t.taxes.map((x) => ({
      taxNo: x.tax_no,
      taxCode: x.tax_code,
      taxType: x.tax_type,
      taxName: x.tax_name,
      taxAmount: x.tax_amount,
      targetAmount: x.target_amount,
      targetQuantity: x.target_quantity,
    })),
    subtotalDiscounts: t.subtotal_discounts.map(discount),
    receiptText: t.receipt_text,
    journalText: t.journal_text,
    staff: { id: t.staff.id, name: t.staff.name },
    status: { isCancelled: t.sales.is_cancelled, isVoided: t.is_voided, isRefunded: t.is_refunded },
  };
}

function discount(d: TranlogDiscount): TransactionDiscount {
  return {
    discountType: d.discount_type ?? '',
    discountValue: d.discount_value ?? 0,
    discountAmount: d.discount_amount ?? 0,
    discountDetail: d.detail,
    promotionCode: d.promotion_code,
    promotionType: d.promotion_type,
  };
}
