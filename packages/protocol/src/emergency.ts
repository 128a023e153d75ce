/**
 * Emergency calls on the wire: the civic address (RFC 5139's parts, the RFC 4776 CAtypes) that tenant
 * admins keep for their sites and users and that emergency calls carry to the carrier as PIDF-LO, and
 * the one way it is said in words (alerts, the admin screen, the CLI). Defined once for the server,
 * the SDK and the web app.
 */
import { z } from 'zod';

const Part = z.string().trim().min(1).max(120).optional();
const Short = z.string().trim().min(1).max(20).optional();

/**
 * A civic address: `country` (ISO 3166-1 alpha-2) and `city` (A3) are required; the rest as the place
 * needs (a street address, then the building, floor and room that let responders find the caller).
 */
export const CivicAddress = z.strictObject({
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code'),
  /** A1: state, region or province. */
  region: Part,
  /** A2: county. */
  county: Part,
  /** A3: city or town. */
  city: z.string().trim().min(1, 'the city or town').max(120),
  /** A4: district, borough. */
  district: Part,
  /** A6: street. */
  street: Part,
  /** HNO: house number. */
  houseNumber: Short,
  /** HNS: house number suffix (`A`, `1/2`). */
  houseNumberSuffix: Short,
  /** PC: postal code. */
  postalCode: Short,
  /** NAM: the name of the place (a company, a building's name). */
  name: Part,
  /** BLD: building. */
  building: Part,
  /** FLR: floor. */
  floor: Short,
  /** UNIT: unit, suite. */
  unit: Short,
  /** ROOM. */
  room: Short,
  /** LOC: anything else that helps find the caller. */
  location: z.string().trim().min(1).max(200).optional(),
});
export type CivicAddress = z.infer<typeof CivicAddress>;

/** A civic address in words, most specific first: `Floor 3, 1 Example Street, London, SW1A 1AA, GB`. */
export function civicAddressText(a: CivicAddress): string {
  const street = [[a.houseNumber, a.houseNumberSuffix].filter(Boolean).join(''), a.street]
    .filter(Boolean)
    .join(' ');
  return [
    a.name,
    a.room && `Room ${a.room}`,
    a.unit && `Unit ${a.unit}`,
    a.floor && `Floor ${a.floor}`,
    a.building,
    street,
    a.location,
    a.district,
    a.city,
    a.county,
    a.region,
    a.postalCode,
    a.country,
  ]
    .map((x) => x?.trim())
    .filter(Boolean)
    .join(', ');
}
