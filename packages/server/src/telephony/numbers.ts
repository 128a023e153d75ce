/**
 * Phone numbers (DIDs): an inventory per carrier, in E.164. A number is first the operator's (tenant
 * null), then assigned to a tenant, then by the tenant's admin to one of its users; the user's number
 * is their caller ID and an inbound call to it rings all their devices.
 */

export interface PhoneNumber {
  /** E.164 with the `+`. */
  number: string;
  carrierId: string;
  tenantId: string | null;
  userId: string | null;
}

export interface NumberDirectory {
  byNumber(e164: string): Promise<PhoneNumber | null>;
  /** The user's caller ID: their first assigned number, or null. */
  numberOfUser(tenantId: string, userId: string): Promise<string | null>;
}

/** A directory over a fixed list, for tests. */
export class StaticNumberDirectory implements NumberDirectory {
  constructor(private readonly numbers: PhoneNumber[] = []) {}

  async byNumber(e164: string): Promise<PhoneNumber | null> {
    return this.numbers.find((n) => n.number === e164) ?? null;
  }

  async numberOfUser(tenantId: string, userId: string): Promise<string | null> {
    const mine = this.numbers
      .filter((n) => n.tenantId === tenantId && n.userId === userId)
      .map((n) => n.number)
      .sort();
    return mine[0] ?? null;
  }
}
