import { TranlogTax } from '../shared/tranlog';

/** How a tax code is charged. */
export interface TaxRule {
  /** `External`: added to the price; `Internal`: included in it; `Exempt`: none. */
  taxType: 'External' | 'Internal' | 'Exempt';
  taxName: string;
  /** Percent. */
  rate: number;
}

/**
 * The tax master: the Kugelpos default one (its services start with these five codes). The
 * Kugelpos cart reads it from master-data; kugel-comms has no repository for taxes, so the sample
 * keeps it here.
 */
export const TAX_MASTER: Readonly<Record<string, TaxRule>> = {
  '00': { taxType: 'Exempt', taxName: '非課税', rate: 0 },
  '01': { taxType: 'External', taxName: '外税10%', rate: 10 },
  '02': { taxType: 'Internal', taxName: '内税10%', rate: 10 },
  '11': { taxType: 'External', taxName: '外税 8%', rate: 8 },
  '12': { taxType: 'Internal', taxName: '内税 8%', rate: 8 },
};

/** What the tax lines are computed from: a line's tax code, amount and quantity. */
export interface TaxedLine {
  taxCode: string;
  amount: number;
  quantity: number;
}

/**
 * One tax line per tax code, as the Kugelpos cart computes them: numbered in the order the codes
 * first appear among the lines; each on the sum of its lines' amounts and quantities; the tax
 * rounded down to a whole unit (the default master's rounding). An internal tax is the part of the
 * amount that is tax (`amount × rate / (100 + rate)`); an external one is added
 * (`amount × rate / 100`). A code the master does not know is an error: no cart is computed
 * with one.
 */
export function taxLines(
  lines: readonly TaxedLine[],
  master: Readonly<Record<string, TaxRule>> = TAX_MASTER,
): TranlogTax[] {
  const byCode = new Map<string, TranlogTax>();
  for (const line of lines) {
    let tax = byCode.get(line.taxCode);
    if (!tax) {
      const rule = master[line.taxCode];
      if (!rule) throw new Error(`tax code ${JSON.stringify(line.taxCode)} is not in the tax master`);
      tax = {
        tax_no: byCode.size + 1,
        tax_code: line.taxCode,
        tax_type: rule.taxType,
        tax_name: rule.taxName,
        tax_amount: 0,
        target_amount: 0,
        target_quantity: 0,
      };
      byCode.set(line.taxCode, tax);
    }
    tax.target_amount += line.amount;
    tax.target_quantity += line.quantity;
  }
  for (const tax of byCode.values()) {
    const { rate } = master[tax.tax_code];
    const exact =
      tax.tax_type === 'Internal'
        ? (tax.target_amount * rate) / (100 + rate)
        : tax.tax_type === 'External'
          ? (tax.target_amount * rate) / 100
          : 0;
    tax.tax_amount = Math.floor(exact);
  }
  return [...byCode.values()];
}

/** The taxes added to the price: the external ones (the tranlog's `sales.tax_amount`). */
export function externalTax(taxes: readonly TranlogTax[]): number {
  return taxes.filter((t) => t.tax_type === 'External').reduce((sum, t) => sum + t.tax_amount, 0);
}
