/**
 * Late offers from phones (RFC 3261 section 13.2.1, RFC 3264 section 5): some desk phones and PBXs
 * send their INVITE without SDP and expect the offer in the 200 and to answer in the ACK. SIPp plays
 * such a phone from 127.0.0.2: it registers as Bob's SIP device with digest, calls Alice with an
 * INVITE that has no body (digest again, 407), checks that the 200 carries an RTP/AVP offer and answers
 * it in its ACK (PCMA only, so the bridge also converts the browser's PCMU). SIPp echoes the RTP it
 * gets (`-rtp_echo`), so Alice hearing her own microphone proves both directions: Parley sent to the
 * address the ACK's answer gave, and the phone's packets came back through the bridge. Alice hangs
 * up; the phone gets BYE. A phone whose ACK brings no answer gets BYE at once and Alice's call ends.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { demo, launchBrowser, mediaArgs } from '../web/harness.ts';
import { openCallPage, waitForStats, type CallPage } from '../web/call-steps.ts';
import { freePort, startSipp, type SippRun } from '../../packages/sip/test/sipp-harness.ts';
import { startPhoneServer, type DeviceCredentials, type PhoneServer } from './parley.ts';

const PHONE_IP = '127.0.0.2';

let server: PhoneServer;
let browser: Browser;
let folder: string;
const pages: CallPage[] = [];
const runs: SippRun[] = [];

before(async () => {
  server = await startPhoneServer();
  browser = await launchBrowser(mediaArgs);
  folder = mkdtempSync(join(tmpdir(), 'parley-late-offer-'));
});
after(async () => {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  for (const p of pages) await p.context.close();
  await browser?.close();
  await server?.close();
  rmSync(folder, { recursive: true, force: true });
});

/**
 * The SIPp phone: REGISTER (401, digest), INVITE without a body to `callee` (407, ACK, INVITE with
 * digest), 200 whose body must be an RTP/AVP offer, ACK with our answer (or none when `answer` is
 * false), then the BYE Parley sends, answered 200.
 */
function lateOfferScenario(d: DeviceCredentials, callee: string, answer: boolean): string {
  const from = `<sip:${d.username}@${d.domain}>;tag=[pid]late[call_number]`;
  const contact = `<sip:${d.username}@[local_ip]:[local_port]>`;
  const auth = `[authentication username=${d.username} password=${d.password}]`;
  const sdp = `
      v=0
      o=phone 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv`;
  const register = (cseq: number, withAuth: boolean) => `
  <send retrans="500">
    <![CDATA[
      REGISTER sip:${d.domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: ${from}
      To: <sip:${d.username}@${d.domain}>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: ${contact}${withAuth ? `\n      ${auth}` : ''}
      Max-Forwards: 70
      Expires: 600
      Content-Length: 0

    ]]>
  </send>`;
  const invite = (cseq: number, withAuth: boolean) => `
  <send retrans="500">
    <![CDATA[
      INVITE sip:${callee} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: ${from}
      To: <sip:${callee}>
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: ${contact}${withAuth ? `\n      ${auth}` : ''}
      Max-Forwards: 70
      Allow: INVITE, ACK, CANCEL, BYE, OPTIONS
      Content-Length: 0

    ]]>
  </send>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="late offer">${register(1, false)}
  <recv response="401" auth="true"/>${register(2, true)}
  <recv response="200"/>${invite(3, false)}
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
  <send>
    <![CDATA[
      ACK sip:${callee} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3];rport
      From: ${from}
      To: <sip:${callee}>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>${invite(4, true)}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="m=audio [0-9]+ RTP/AVP" search_in="body" check_it="true" assign_to="offer"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: ${from}
      To: <sip:${callee}>[peer_tag_param]
      Call-ID: [call_id]
      [routes]
      CSeq: 4 ACK
      Max-Forwards: 70${answer ? `\n      Content-Type: application/sdp` : ''}
      Content-Length: [len]
${answer ? sdp : ''}

    ]]>
  </send>
  <recv request="BYE" timeout="60000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="offer"/>
</scenario>
`;
}

/** The end of the SIP messages SIPp traced for run `name` (for failure messages). */
function trace(name: string): string {
  try {
    return readFileSync(join(folder, `${name}.messages`), 'utf8').slice(-3000);
  } catch {
    return '(no trace)';
  }
}

async function phoneCalls(d: DeviceCredentials, name: string, answer: boolean): Promise<SippRun> {
  const file = join(folder, `${name}.xml`);
  writeFileSync(file, lateOfferScenario(d, `alice@${server.domain}`, answer));
  const run = startSipp(
    [
      `127.0.0.1:${server.port('udp')}`,
      '-sf',
      file,
      '-i',
      PHONE_IP,
      '-p',
      String(await freePort()),
      '-mi',
      PHONE_IP,
      '-mp',
      String(await freePort()),
      '-rtp_echo',
      '-m',
      '1',
      '-timeout',
      '60',
      '-trace_msg',
      '-message_file',
      join(folder, `${name}.messages`),
    ],
    70_000,
  );
  runs.push(run);
  return run;
}

/** Alice's browser rings for Bob's phone (or the phone's SIPp run ended first: its errors say why). */
async function rings(a: Page, run: SippRun, name: string) {
  const incoming = a.getByRole('alertdialog', { name: 'Bob Baker' });
  await Promise.race([
    incoming.waitFor({ timeout: 15_000 }),
    run.done.then((r) => {
      throw new Error(
        `the SIPp phone ended (${r.code}) before Alice's browser rang: ${r.errors}\n${trace(name)}`,
      );
    }),
  ]);
  return incoming;
}

async function alicePage(): Promise<Page> {
  const p = await openCallPage(browser, server.web, demo.alice);
  pages.push(p);
  return p.page;
}

test('a phone’s INVITE without SDP: our offer in the 200, its answer in the ACK, audio both ways', async () => {
  const device = await server.addDevice(demo.bob, 'bob-late');
  const a = await alicePage();
  const run = await phoneCalls(device, 'answers-in-ack', true);
  const incoming = await rings(a, run, 'answers-in-ack');
  assert.equal(
    server.web.app.registrations.contactsOf(device.tenantId, device.userId).length,
    1,
    'the phone registered with digest first',
  );
  await incoming.getByRole('button', { name: /^Answer with audio/ }).click();
  const view = a.getByRole('region', { name: 'Call with Bob Baker' });
  await view.getByRole('timer').waitFor();
  // SIPp echoes what it gets: Alice hears her own microphone only if both directions work.
  const first = await waitForStats(a, 'Alice: inbound audio', (s) => s.audioEnergy > 0, 15_000);
  await waitForStats(
    a,
    'Alice: inbound audio energy grows',
    (s) => s.audioEnergy > first.audioEnergy + 0.01,
    15_000,
  );
  await view.getByRole('button', { name: 'Hang up' }).click();
  await view.waitFor({ state: 'detached' });
  const result = await run.done;
  assert.equal(
    result.code,
    0,
    `SIPp's phone saw the whole call (${result.errors})\n${trace('answers-in-ack')}`,
  );
  assert.equal(result.stats['SuccessfulCall(C)'], '1');
});

test('a late-offer phone whose ACK brings no answer gets BYE, and the browser’s call ends', async () => {
  const device = await server.addDevice(demo.bob, 'bob-noanswer');
  const a = await alicePage();
  const run = await phoneCalls(device, 'no-answer', false);
  const incoming = await rings(a, run, 'no-answer');
  await incoming.getByRole('button', { name: /^Answer with audio/ }).click();
  const result = await run.done;
  assert.equal(
    result.code,
    0,
    `SIPp's phone got BYE after its empty ACK (${result.errors})\n${trace('no-answer')}`,
  );
  await a.getByRole('region', { name: 'Call with Bob Baker' }).waitFor({ state: 'detached' });
});
