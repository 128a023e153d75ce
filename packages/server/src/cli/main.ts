/**
 * `parley`: the server's command line.
 *
 *   parley serve [--demo]        start the server (with --demo: create the demo data first)
 *   parley migrate               apply database migrations
 *   parley tenant create --name N --domain D [--country CC] [--time-zone TZ]
 *   parley user add --tenant D --address A --name N --password P [--role user|admin]
 *   parley operator add --address A --password P [--name N]
 *   parley device add --user A [--name N] [--username U] [--password P]   a SIP device (desk phone)
 *   parley device list --user A | device reset --user A --device D [--password P]
 *   parley device remove --user A --device D
 *   parley extension set --user A --extension N | extension clear --user A
 *   parley carrier add --name N --address HOST:PORT [--transport T] [--allow ADDR,...] [--tenant D]
 *   parley carrier update --name N [--preference P] [--emergency yes|no] [--pidf-lo yes|no]
 *   parley carrier list | carrier status | carrier remove --name N
 *   parley number add --carrier N --number +E164 [--tenant D] [--user A]
 *   parley number import FILE.csv   numbers from a CSV (number,carrier,tenant), all or none
 *   parley number list [--tenant D] [--carrier N] | number remove --number +E164
 *   parley emergency site add --tenant D --name N --city C --country CC [...] | emergency site list
 *   parley emergency location set --user A --site S|none | emergency callback set --tenant D --number N
 *   parley mail test --to ADDRESS
 *   parley demo                  create the demo tenant, users and operator (idempotent)
 *   parley chat send --from A --to B --text T [--url URL]   send through a running server's API
 *
 * Every admin command takes --json to print its result as one JSON object. Bad arguments print the
 * usage and exit 2; a refused operation (duplicate, invalid value) prints its code and exits 1; `serve`
 * on a data folder another server holds exits 3 at once (admin commands may share the folder).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ParleyError, type SipDeviceCredentials } from '@parley/protocol';
import { ConfigError, loadConfig } from '../config.ts';
import { createMailer } from '../mail/mailer.ts';
import { openStorage } from '../storage/db.ts';
import { migrate } from '../storage/migrator.ts';
import { DataDirLockedError } from '../storage/data-dir-lock.ts';
import { AdminCommands } from './commands.ts';
import { chatSend } from './chat-send.ts';
import { DeviceCommands } from './device-commands.ts';
import { CarrierCommands } from './carrier-commands.ts';
import { EmergencyCommands } from './emergency-commands.ts';
import { addressText } from '../telephony/emergency.ts';
import { NumberCommands } from './number-commands.ts';

export const usage = `usage: parley <command> [options]

  serve [--demo]                      start the server (--demo: create demo data first)
  migrate                             apply database migrations
  tenant create --name N --domain D [--country CC] [--time-zone TZ]
  user add --tenant DOMAIN --address A --name N --password P [--role user|admin]
           [--title T] [--department D]
  operator add --address A --password P [--name N]
  device add --user ADDRESS [--name N] [--username U] [--password P]
                                      give the user a SIP device (desk phone, softphone): prints the
                                      SIP user name, password (shown once), domain, proxy and port
  device list --user ADDRESS
  device reset --user ADDRESS --device ID|USERNAME [--password P]
                                      a new password (generated unless given), shown once
  device remove --user ADDRESS --device ID|USERNAME
  extension set --user ADDRESS --extension N
                                      the user's short number (2-8 digits, unique in the tenant)
  extension clear --user ADDRESS
  carrier add --name N --address HOST:PORT[,HOST:PORT...] [--transport udp|tcp|tls]
              [--allow ADDR,...] [--tenant DOMAIN] [--codecs PCMA,PCMU,G722]
              [--caller-id e164|e164_no_plus|national] [--channels N] [--preference N]
              [--auth ip|register --username U --password P [--registrar HOST:PORT]
               [--auth-username U] [--domain D]] [--emergency] [--pidf-lo]
                                      a carrier's SIP trunk (billing's carrier of that name, created
                                      when there is none); --allow defaults to the address hosts,
                                      --tenant makes it that tenant's own carrier
  carrier update --name N|ID [--preference N] [--emergency yes|no] [--pidf-lo yes|no]
                                      between carriers that cost the same for a number, the
                                      lower preference is tried first (-1000 to 1000; 0 by default;
                                      a negative one as --preference=-5); the carrier for
                                      emergency calls (tried first for them), and whether they
                                      carry the caller's location (RFC 6442 PIDF-LO)
  carrier list
  carrier status                      each trunk's auth, registration and health check as stored;
                                      live health and registration state are the running server's
                                      (GET /api/operator/telephony/carriers/status, Carriers screen)
  carrier remove --name N|ID          the SIP trunk only (billing's carrier and decks stay)
  number add --carrier N --number +E164 [--tenant DOMAIN] [--user ADDRESS]
                                      a phone number (DID) of the carrier, given to a tenant and
                                      to a user (their caller ID; calls to it ring them)
  number import FILE.csv              numbers from a CSV with the header number,carrier,tenant
                                      (carrier: name or id; tenant: a domain, may be empty); any
                                      bad row: nothing imported, each bad row listed by row number
  number list [--tenant DOMAIN] [--carrier N]
  number remove --number +E164
  emergency site add --tenant DOMAIN --name N --city C --country CC [--street S] [--number H]
                     [--postal-code P] [--floor F] [--building B] [--room R]
                                      a site: a named civic address emergency calls send
  emergency site list --tenant DOMAIN
  emergency location set --user ADDRESS --site NAME|ID|none
                                      where the user is (an address of their own: HTTP API or web)
  emergency callback set --tenant DOMAIN --number +E164|none
                                      the callback number of callers with no number of their own
  mail test --to ADDRESS              send a test mail with this process's PARLEY_SMTP_URL settings
                                      (exit 1 with the code: mail_off, mail_refused, mail_unreachable)
  demo                                create demo tenant, users and operator (idempotent)
  chat send --from A --to B --text T [--url URL]
                                      send a chat message through a running server (password from
                                      PARLEY_PASSWORD or a prompt; URL defaults to PARLEY_PUBLIC_URL)

options: --json (print the result as one JSON object), --help
configuration comes from PARLEY_* environment variables (see README)`;

class UsageError extends Error {}

const specs = {
  serve: { demo: { type: 'boolean' } },
  migrate: {},
  'tenant create': {
    name: { type: 'string' },
    domain: { type: 'string' },
    country: { type: 'string' },
    'time-zone': { type: 'string' },
  },
  'user add': {
    tenant: { type: 'string' },
    address: { type: 'string' },
    name: { type: 'string' },
    password: { type: 'string' },
    role: { type: 'string' },
    title: { type: 'string' },
    department: { type: 'string' },
  },
  'operator add': { address: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' } },
  'device add': {
    user: { type: 'string' },
    name: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
  },
  'device list': { user: { type: 'string' } },
  'device reset': { user: { type: 'string' }, device: { type: 'string' }, password: { type: 'string' } },
  'device remove': { user: { type: 'string' }, device: { type: 'string' } },
  'extension set': { user: { type: 'string' }, extension: { type: 'string' } },
  'extension clear': { user: { type: 'string' } },
  'carrier add': {
    name: { type: 'string' },
    address: { type: 'string' },
    transport: { type: 'string' },
    allow: { type: 'string' },
    tenant: { type: 'string' },
    codecs: { type: 'string' },
    'caller-id': { type: 'string' },
    channels: { type: 'string' },
    auth: { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    'auth-username': { type: 'string' },
    registrar: { type: 'string' },
    domain: { type: 'string' },
    preference: { type: 'string' },
    emergency: { type: 'boolean' },
    'pidf-lo': { type: 'boolean' },
  },
  'carrier update': {
    name: { type: 'string' },
    preference: { type: 'string' },
    emergency: { type: 'string' },
    'pidf-lo': { type: 'string' },
  },
  'carrier list': {},
  'carrier status': {},
  'carrier remove': { name: { type: 'string' } },
  'number add': {
    carrier: { type: 'string' },
    number: { type: 'string' },
    tenant: { type: 'string' },
    user: { type: 'string' },
  },
  'number import': {},
  'number list': { tenant: { type: 'string' }, carrier: { type: 'string' } },
  'number remove': { number: { type: 'string' } },
  'emergency site add': {
    tenant: { type: 'string' },
    name: { type: 'string' },
    city: { type: 'string' },
    country: { type: 'string' },
    street: { type: 'string' },
    number: { type: 'string' },
    'postal-code': { type: 'string' },
    floor: { type: 'string' },
    building: { type: 'string' },
    room: { type: 'string' },
  },
  'emergency site list': { tenant: { type: 'string' } },
  'emergency location set': { user: { type: 'string' }, site: { type: 'string' } },
  'emergency callback set': { tenant: { type: 'string' }, number: { type: 'string' } },
  'mail test': { to: { type: 'string' } },
  demo: { quiet: { type: 'boolean' } },
  'chat send': {
    from: { type: 'string' },
    to: { type: 'string' },
    text: { type: 'string' },
    url: { type: 'string' },
  },
} as const;

type CommandName = keyof typeof specs;
type Values = Record<string, string | boolean | undefined>;

function required(values: Values, ...names: string[]): void {
  const missing = names.filter((n) => typeof values[n] !== 'string' || values[n] === '');
  if (missing.length) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`);
}

function parse(argv: string[]): { command: CommandName; values: Values; json: boolean } {
  const words = argv.filter((a) => !a.startsWith('-')).slice(0, 3);
  // Three words (`emergency site add`), two (`carrier add`) or one (`serve`).
  const command = ([words.join(' '), words.slice(0, 2).join(' '), words[0]] as string[]).find(
    (c) => c in specs,
  ) as CommandName | undefined;
  if (!command)
    throw new UsageError(
      argv.length ? `unknown command: ${words.slice(0, 2).join(' ') || argv[0]}` : 'no command given',
    );
  const rest = argv.slice(argv.indexOf(command.split(' ').at(-1)!) + 1);
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...specs[command], json: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: true,
    });
    // `number import FILE.csv` takes its file as the one positional argument.
    const takesFile = command === 'number import';
    if (positionals.length > (takesFile ? 1 : 0))
      throw new UsageError(`unexpected argument: ${positionals.at(-1)}`);
    if (values.help) throw new UsageError('');
    if (takesFile && !positionals[0]) throw new UsageError('missing FILE.csv');
    const withFile: Values = takesFile ? { ...(values as Values), file: positionals[0] } : (values as Values);
    return { command, values: withFile, json: values.json === true };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

function print(json: boolean, result: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${text}\n`);
}

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) process.stderr.write(`parley: ${err.message}\n`);
      process.stderr.write(`${usage}\n`);
      return argv.includes('--help') ? 0 : 2;
    }
    throw err;
  }
  const { command, values, json } = parsed;
  const config = loadConfig();

  if (command === 'serve') return serve(config, values.demo === true);
  if (command === 'mail test') {
    if (typeof values.to !== 'string') {
      process.stderr.write(`parley: --to is required\n${usage}\n`);
      return 2;
    }
    const mailer = createMailer(config);
    const r = await mailer.send({
      to: values.to,
      subject: 'Parley test mail',
      text: 'This is a test mail from your Parley server. If you read it, outgoing mail works.',
    });
    mailer.close();
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else if (r.ok) process.stdout.write(`sent to ${r.accepted.join(', ')} (${r.messageId})\n`);
    else process.stderr.write(`parley: ${r.code}: ${r.message}\n`);
    return r.ok ? 0 : 1;
  }
  if (command === 'chat send') {
    try {
      required(values, 'from', 'to', 'text');
      const m = await chatSend({
        from: values.from as string,
        to: values.to as string,
        text: values.text as string,
        url: (values.url as string | undefined) ?? config.publicUrl,
      });
      print(json, m, `sent: seq ${m.seq} in ${m.conversationId} (${m.id})`);
      return 0;
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`parley: ${err.message}\n${usage}\n`);
        return 2;
      }
      if (!(err instanceof ParleyError)) throw err;
      if (json) process.stdout.write(`${JSON.stringify(err.toBody())}\n`);
      else process.stderr.write(`parley: ${err.code}: ${err.message}\n`);
      return 1;
    }
  }

  const storage = openStorage({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const report = await migrate(storage);
    const admin = new AdminCommands(storage);
    const devices = new DeviceCommands(storage, config);
    const carriers = new CarrierCommands(storage);
    const numbers = new NumberCommands(storage);
    const emergency = new EmergencyCommands(storage);
    // The string options of the command (after `required` has checked the ones it needs).
    const opt = (name: string) => values[name] as string | undefined;
    const user = () => values.user as string;
    switch (command) {
      case 'migrate':
        print(
          json,
          report,
          report.applied.length ? `applied: ${report.applied.join(', ')}` : `up to date (${report.current})`,
        );
        break;
      case 'tenant create': {
        required(values, 'name', 'domain');
        const t = await admin.createTenant({
          name: values.name as string,
          domain: values.domain as string,
          country: values.country as string | undefined,
          timeZone: values['time-zone'] as string | undefined,
        });
        print(json, t, `tenant ${t.name} (${t.domains.join(', ')}) created: ${t.id}`);
        break;
      }
      case 'user add': {
        required(values, 'tenant', 'address', 'name', 'password');
        const u = await admin.addUser(
          values as { tenant: string; address: string; name: string; password: string; role?: string },
        );
        print(json, u, `user ${u.address} (${u.role}) created: ${u.id}`);
        break;
      }
      case 'operator add': {
        required(values, 'address', 'password');
        const u = await admin.addOperator(values as { address: string; password: string; name?: string });
        print(json, u, `operator ${u.address} created: ${u.id}`);
        break;
      }
      case 'device add': {
        required(values, 'user');
        const c = await devices.add({
          user: user(),
          name: opt('name'),
          username: opt('username'),
          password: opt('password'),
        });
        print(json, c, credentialsText(c, `SIP device "${c.device.name}" added for ${values.user}`));
        break;
      }
      case 'device list': {
        required(values, 'user');
        const l = await devices.list({ user: user() });
        print(
          json,
          l,
          l.items.length
            ? l.items.map((d) => `${d.username}@${d.domain}  ${d.name}  (${d.id})`).join('\n')
            : `${values.user} has no SIP devices`,
        );
        break;
      }
      case 'device reset': {
        required(values, 'user', 'device');
        const c = await devices.reset({ user: user(), device: opt('device')!, password: opt('password') });
        print(json, c, credentialsText(c, `new password for SIP device "${c.device.name}"`));
        break;
      }
      case 'device remove': {
        required(values, 'user', 'device');
        const r = await devices.remove({ user: user(), device: opt('device')! });
        print(json, r, `SIP device ${r.removed} removed`);
        break;
      }
      case 'extension set': {
        required(values, 'user', 'extension');
        const e = await devices.setExtension({ user: user(), extension: opt('extension')! });
        print(json, e, `${values.user} has extension ${e.extension}`);
        break;
      }
      case 'extension clear': {
        required(values, 'user');
        const e = await devices.clearExtension({ user: user() });
        print(json, e, `${values.user} has no extension`);
        break;
      }
      case 'carrier add': {
        required(values, 'name', 'address');
        const c = await carriers.add({
          name: opt('name')!,
          address: opt('address')!,
          transport: opt('transport'),
          allow: opt('allow'),
          tenant: opt('tenant'),
          codecs: opt('codecs'),
          callerId: opt('caller-id'),
          channels: opt('channels'),
          auth: opt('auth'),
          username: opt('username'),
          password: opt('password'),
          authUsername: opt('auth-username'),
          registrar: opt('registrar'),
          domain: opt('domain'),
          preference: opt('preference'),
          emergency: values.emergency === true,
          pidfLo: values['pidf-lo'] === true,
        });
        print(
          json,
          c,
          `carrier ${c.name} ${c.created ? 'created with' : 'given'} a SIP trunk: ${c.id}\n${trunkText(c)}`,
        );
        break;
      }
      case 'emergency site add': {
        required(values, 'tenant', 'name', 'city', 'country');
        const site = await emergency.addSite({
          tenant: opt('tenant')!,
          name: opt('name')!,
          city: opt('city')!,
          country: opt('country')!,
          street: opt('street'),
          number: opt('number'),
          postalCode: opt('postal-code'),
          floor: opt('floor'),
          building: opt('building'),
          room: opt('room'),
        });
        print(json, site, `site ${site.name} added: ${site.id}\n${addressText(site.address)}`);
        break;
      }
      case 'emergency site list': {
        required(values, 'tenant');
        const l = await emergency.listSites(opt('tenant')!);
        print(
          json,
          l,
          l.items.length
            ? l.items
                .map((x) => `${x.name}  ${addressText(x.address)}  ${x.users} people  (${x.id})`)
                .join('\n')
            : 'no sites',
        );
        break;
      }
      case 'emergency location set': {
        required(values, 'user', 'site');
        const loc = await emergency.setLocation({ user: user(), site: opt('site')! });
        print(json, loc, loc.site ? `${values.user} is at ${loc.site}` : `${values.user} has no location`);
        break;
      }
      case 'emergency callback set': {
        required(values, 'tenant', 'number');
        const r = await emergency.setCallback({ tenant: opt('tenant')!, number: opt('number')! });
        print(
          json,
          r,
          r.callbackNumber ? `emergency callback number ${r.callbackNumber}` : 'no emergency callback number',
        );
        break;
      }
      case 'carrier update': {
        required(values, 'name');
        const c = await carriers.update({
          name: opt('name')!,
          preference: opt('preference'),
          emergency: opt('emergency'),
          pidfLo: opt('pidf-lo'),
        });
        print(json, c, trunkText(c));
        break;
      }
      case 'carrier list': {
        const l = await carriers.list();
        print(json, l, l.items.length ? l.items.map(trunkText).join('\n') : 'no carrier has a SIP trunk');
        break;
      }
      case 'carrier status': {
        const l = await carriers.list();
        const note =
          'Live health (each address up, down or unknown, with its last error) and registration state are ' +
          'kept by the running server, not in the data folder: see GET /api/operator/telephony/carriers/status ' +
          '(operator) or the Carriers screen.';
        // The registration password is write-only, as in the HTTP API.
        const items = l.items.map((t) => ({
          ...t,
          registration: t.registration && { ...t.registration, password: undefined },
        }));
        print(
          json,
          { items, status: null, note },
          [
            ...(l.items.length ? l.items.map(trunkStatusText) : ['no carrier has a SIP trunk']),
            '',
            note,
          ].join('\n'),
        );
        break;
      }
      case 'carrier remove': {
        required(values, 'name');
        const r = await carriers.remove({ name: opt('name')! });
        print(json, r, `SIP trunk of carrier ${r.removed} removed (billing's carrier stays)`);
        break;
      }
      case 'number add': {
        required(values, 'carrier', 'number');
        const n = await numbers.add({
          carrier: opt('carrier')!,
          number: opt('number')!,
          tenant: opt('tenant'),
          user: opt('user'),
        });
        print(json, n, `number ${numberText(n)} added`);
        break;
      }
      case 'number import': {
        const file = values.file as string;
        let csv: string;
        try {
          csv = await readFile(file, 'utf8');
        } catch (err) {
          throw new ParleyError('not_found', `cannot read ${file}: ${(err as Error).message}`, {
            field: 'FILE',
          });
        }
        const r = await numbers.import({ csv });
        print(json, r, [`${r.imported} numbers imported`, ...r.items.map(numberText)].join('\n'));
        break;
      }
      case 'number list': {
        const l = await numbers.list({ tenant: opt('tenant'), carrier: opt('carrier') });
        print(json, l, l.items.length ? l.items.map(numberText).join('\n') : 'no numbers');
        break;
      }
      case 'number remove': {
        required(values, 'number');
        const r = await numbers.remove({ number: opt('number')! });
        print(json, r, `number ${r.removed} removed`);
        break;
      }
      case 'demo': {
        const d = await admin.demo();
        if (!values.quiet || json) print(json, d, demoText(d));
        break;
      }
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`parley: ${err.message}\n${usage}\n`);
      return 2;
    }
    if (err instanceof ParleyError) {
      if (json) process.stdout.write(`${JSON.stringify(err.toBody())}\n`);
      else {
        process.stderr.write(`parley: ${err.code}: ${err.message}\n`);
        // A refused import: every bad row, not only the first few the message names.
        for (const r of err.rows ?? [])
          process.stderr.write(`  row ${r.row}${r.column ? ` (${r.column})` : ''}: ${r.message}\n`);
      }
      return 1;
    }
    throw err;
  } finally {
    await storage.close();
  }
}

/** What to type into the phone, as text: the password is shown this once. */
function credentialsText(c: SipDeviceCredentials, heading: string): string {
  const s = c.settings;
  return [
    `${heading} (${c.device.id})`,
    `  SIP user name: ${s.username}`,
    `  password:      ${s.password}   (shown this once)`,
    `  domain:        ${s.domain}`,
    `  proxy:         ${s.proxyAddress} port ${s.port} (UDP, TCP)${s.tlsPort === null ? '' : `, ${s.tlsPort} (TLS)`}`,
    ...c.provisioning.flatMap((p) => ['', `${p.title}:`, p.text.trimEnd()]),
  ].join('\n');
}

/** One trunk as a line: name, where its calls go, how they are recognised and sent. */
function trunkText(t: Awaited<ReturnType<CarrierCommands['list']>>['items'][number]): string {
  const to = t.addresses.map((a) => `${a.host}:${a.port}`).join(', ');
  return [
    `${t.name}  ${t.transport} ${to}  allow ${t.allow.join(', ') || 'none'}  codecs ${t.codecs.join(', ')}`,
    `caller ID ${t.callerIdFormat}`,
    t.channelLimit === null ? 'no channel limit' : `${t.channelLimit} channels`,
    // Least-cost routing's tie-break, shown when set.
    t.preference ? `preference ${t.preference}` : '',
    t.tenantId === null ? "operator's" : `${t.tenant ?? t.tenantId}'s own`,
    t.emergency ? `emergency calls${t.pidfLo ? ' with PIDF-LO' : ''}` : '',
    t.enabled ? '' : 'disabled',
    `(${t.id})`,
  ]
    .filter((x) => x !== '')
    .join('  ');
}

/** One trunk's stored authentication, registration and health-check settings. */
function trunkStatusText(t: Awaited<ReturnType<CarrierCommands['list']>>['items'][number]): string {
  const r = t.registration;
  return [
    `${t.name}  ${t.addresses.map((a) => `${a.host}:${a.port}`).join(', ')}`,
    t.auth === 'register' && r
      ? `registers as ${r.username}${r.authUsername ? ` (auth ${r.authUsername})` : ''} to ${r.registrar.host}:${r.registrar.port}${r.domain ? ` for ${r.domain}` : ''}, every ${r.expires}s`
      : 'known by source address (no registration)',
    `identity ${t.identity}`,
    t.healthCheck ? 'health check on' : 'health check off',
    t.enabled ? '' : 'disabled',
    `(${t.id})`,
  ]
    .filter((x) => x !== '')
    .join('  ');
}

function numberText(n: Awaited<ReturnType<NumberCommands['add']>>): string {
  return `${n.number}  carrier ${n.carrier ?? n.carrierId}  ${n.tenant ? `tenant ${n.tenant}` : 'not given to a tenant'}${n.user ? `  user ${n.user}` : ''}`;
}

function demoText(d: Awaited<ReturnType<AdminCommands['demo']>>): string {
  return [
    `demo tenant: ${d.tenant.name} (${d.tenant.domain})`,
    ...d.users.map(
      (u) => `  sign in as ${u.address} / ${u.password}${u.role === 'admin' ? '  (tenant admin)' : ''}`,
    ),
    `operator: ${d.operator.address} / ${d.operator.password}`,
  ].join('\n');
}

async function serve(config: ReturnType<typeof loadConfig>, demo: boolean): Promise<number> {
  // Loaded only here: the admin commands start faster without the HTTP and realtime stack.
  const { createApp } = await import('../app.ts');
  if (config.webBuild === 'auto' && !config.webDir) {
    const { ensureWebBuild } = await import('../web/web-build.ts');
    const built = await ensureWebBuild((line) => process.stderr.write(`${line}\n`));
    if (built) process.stderr.write(`${built}\n`);
  }
  const app = await createApp(config);
  let demoData;
  try {
    if (demo) demoData = await new AdminCommands(app.storage).demo();
    await app.listen();
  } catch (err) {
    await app.close();
    throw err;
  }
  const lines = [
    `Parley ${app.storage.engine === 'sqlite' ? `on SQLite in ${config.dataDir}` : 'on PostgreSQL'} is listening.`,
    `Open ${config.publicUrl}`,
  ];
  if (demoData) lines.push(demoText(demoData));
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return new Promise<number>(() => {});
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`parley: ${err.message}\n`);
      process.exitCode = 3;
      return;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
      process.stderr.write(`parley: cannot listen: ${e.message} (set PARLEY_PORT or PARLEY_SIP_PORT)\n`);
    } else {
      process.stderr.write(`parley: ${e.stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
