/**
 * Location for emergency calls, as RFC 6442 carries it in SIP: a PIDF-LO document (RFC 4119, with the
 * civic address of RFC 5139 and the profile of RFC 5491: one `dm:device`, a `gp:geopriv` with the
 * location, usage rules and method, and a timestamp), sent by value in the INVITE as a part of a
 * multipart/mixed body (RFC 5621) beside the SDP, and pointed at by `Geolocation: <cid:...>` with
 * `Geolocation-Routing: yes` (the location may be used to route the call to the right answering point).
 *
 * ```
 *   Geolocation: <cid:loc-1a2b@parley.example>
 *   Geolocation-Routing: yes
 *   Content-Type: multipart/mixed;boundary=parley-...
 *
 *   --parley-...
 *   Content-Type: application/sdp
 *
 *   v=0 ...
 *   --parley-...
 *   Content-Type: application/pidf+xml
 *   Content-ID: <loc-1a2b@parley.example>
 *
 *   <?xml version="1.0" encoding="UTF-8"?><presence ...><dm:device ...><gp:geopriv>
 *     <gp:location-info><ca:civicAddress>...<ca:A3>London</ca:A3>...</ca:civicAddress></gp:location-info>
 *   ...
 *   --parley-...--
 * ```
 */
import { randomBytes } from 'node:crypto';
import type { CivicAddress } from './emergency-store.ts';

/** RFC 5139's elements in its schema's order, with the CivicAddress field each one holds. */
const CIVIC_ELEMENTS: Array<[element: string, field: keyof CivicAddress]> = [
  ['country', 'country'],
  ['A1', 'region'],
  ['A2', 'county'],
  ['A3', 'city'],
  ['A4', 'district'],
  ['RD', 'street'],
  ['HNO', 'houseNumber'],
  ['HNS', 'houseNumberSuffix'],
  ['LOC', 'location'],
  ['FLR', 'floor'],
  ['NAM', 'name'],
  ['PC', 'postalCode'],
  ['BLD', 'building'],
  ['UNIT', 'unit'],
  ['ROOM', 'room'],
];

/** Text escaped for XML element content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

export interface PidfLoInput {
  /** Who is located: the caller's URI (`sip:+442079460018@parley.example`). */
  entity: string;
  address: CivicAddress;
  /** When the location was given (the call's start). */
  at: Date;
  /** The device id in the document (a stable token of the call). */
  deviceId: string;
}

/** The PIDF-LO document (RFC 4119/5139/5491) for a civic address; the method is `Manual` (an admin keyed it in). */
export function pidfLo(o: PidfLoInput): string {
  const civic = CIVIC_ELEMENTS.flatMap(([el, field]) => {
    const v = o.address[field]?.trim();
    return v ? [`<ca:${el}>${xmlEscape(v)}</ca:${el}>`] : [];
  }).join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\r\n' +
    '<presence xmlns="urn:ietf:params:xml:ns:pidf"' +
    ' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"' +
    ' xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"' +
    ' xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"' +
    ` entity="${xmlEscape(o.entity)}">` +
    `<dm:device id="${xmlEscape(o.deviceId)}">` +
    '<gp:geopriv>' +
    `<gp:location-info><ca:civicAddress xml:lang="en">${civic}</ca:civicAddress></gp:location-info>` +
    '<gp:usage-rules/>' +
    '<gp:method>Manual</gp:method>' +
    '</gp:geopriv>' +
    `<dm:timestamp>${o.at.toISOString()}</dm:timestamp>` +
    '</dm:device>' +
    '</presence>\r\n'
  );
}

export interface LocationBody {
  /** The INVITE's Content-Type: multipart/mixed with its boundary. */
  contentType: string;
  body: string;
  /** The headers that point at the location: Geolocation (the cid: URI) and Geolocation-Routing. */
  headers: Array<[string, string]>;
}

/** A MIME boundary that cannot occur in an SDP or a PIDF-LO we write. */
const boundary = () => `parley-${randomBytes(9).toString('hex')}`;

/**
 * The multipart/mixed body (RFC 5621) of an INVITE carrying `sdp` and the location `pidf` by value,
 * with the Geolocation headers of RFC 6442 pointing at it by Content-ID (`host`: ours).
 */
export function locationBody(sdp: string, pidf: string, host: string): LocationBody {
  const b = boundary();
  const cid = `loc-${randomBytes(6).toString('hex')}@${host}`;
  const crlf = (s: string) =>
    s.endsWith('\r\n') ? s : s.endsWith('\n') ? `${s.slice(0, -1)}\r\n` : `${s}\r\n`;
  const body =
    `--${b}\r\n` +
    'Content-Type: application/sdp\r\n\r\n' +
    crlf(sdp) +
    `--${b}\r\n` +
    'Content-Type: application/pidf+xml\r\n' +
    `Content-ID: <${cid}>\r\n\r\n` +
    crlf(pidf) +
    `--${b}--\r\n`;
  return {
    contentType: `multipart/mixed;boundary=${b}`,
    body,
    headers: [
      ['Geolocation', `<cid:${cid}>`],
      ['Geolocation-Routing', 'yes'],
    ],
  };
}
