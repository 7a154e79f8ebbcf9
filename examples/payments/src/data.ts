// The payments service's in-memory data: types, seed records and the per-instance store.

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'failed', 'refunded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export interface Payment {
  id: string;
  /** Amount in the currency's minor unit (for example cents). */
  amount: number;
  /** ISO 4217 code, three uppercase letters. */
  currency: string;
  description: string | null;
  status: PaymentStatus;
  /** RFC 3339 timestamp. */
  createdAt: string;
}

export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export interface Invoice {
  id: string;
  customer: string;
  amount: number;
  currency: string;
  status: InvoiceStatus;
  /** Calendar date YYYY-MM-DD. */
  dueDate: string;
  /** The payment that settled the invoice; null while unpaid. */
  paymentId: string | null;
}

export interface NewPayment {
  amount: number;
  currency: string;
  description?: string;
}

const SEED_PAYMENTS: readonly Payment[] = [
  { id: 'pay_0001', amount: 1999, currency: 'USD', description: 'Monthly subscription', status: 'succeeded', createdAt: '2025-01-01T10:00:00.000Z' },
  { id: 'pay_0002', amount: 4990, currency: 'EUR', description: 'Annual plan', status: 'succeeded', createdAt: '2025-01-02T09:30:00.000Z' },
  { id: 'pay_0003', amount: 250, currency: 'GBP', description: null, status: 'failed', createdAt: '2025-01-03T16:45:00.000Z' },
  { id: 'pay_0004', amount: 12000, currency: 'USD', description: 'Hardware order', status: 'refunded', createdAt: '2025-01-04T08:15:00.000Z' },
];

const SEED_INVOICES: readonly Invoice[] = [
  { id: 'inv_0001', customer: 'Acme Corp', amount: 1999, currency: 'USD', status: 'paid', dueDate: '2025-01-31', paymentId: 'pay_0001' },
  { id: 'inv_0002', customer: 'Globex', amount: 4990, currency: 'EUR', status: 'paid', dueDate: '2025-02-01', paymentId: 'pay_0002' },
  { id: 'inv_0003', customer: 'Initech', amount: 7500, currency: 'USD', status: 'open', dueDate: '2025-03-15', paymentId: null },
];

/** One service instance's data; every `startPaymentsService` call gets a fresh, freshly seeded store. */
export class PaymentsStore {
  private readonly payments = new Map<string, Payment>();
  private readonly invoices: Invoice[];
  private nextId: number;

  constructor(private readonly now: () => Date = () => new Date()) {
    for (const p of SEED_PAYMENTS) this.payments.set(p.id, { ...p });
    this.invoices = SEED_INVOICES.map((i) => ({ ...i }));
    this.nextId = SEED_PAYMENTS.length + 1;
  }

  /** Payments newest first, optionally filtered by status; `total` counts matches before `limit`. */
  listPayments(opts: { limit: number; status?: PaymentStatus }): { items: Payment[]; total: number } {
    const matching = [...this.payments.values()]
      .filter((p) => opts.status === undefined || p.status === opts.status)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    return { items: matching.slice(0, opts.limit).map((p) => ({ ...p })), total: matching.length };
  }

  getPayment(id: string): Payment | undefined {
    const p = this.payments.get(id);
    return p === undefined ? undefined : { ...p };
  }

  createPayment(input: NewPayment): Payment {
    const id = `pay_${String(this.nextId++).padStart(4, '0')}`;
    const payment: Payment = {
      id,
      amount: input.amount,
      currency: input.currency,
      description: input.description ?? null,
      status: 'pending',
      createdAt: this.now().toISOString(),
    };
    this.payments.set(id, payment);
    return { ...payment };
  }

  listInvoices(): Invoice[] {
    return this.invoices.map((i) => ({ ...i }));
  }
}
