/**
 * The dialog table of a user-agent core (RFC 3261 section 12): every dialog under its dialog ID
 * (Call-ID, local tag, remote tag), with the usages that share it (RFC 5057 section 3): at most
 * one INVITE usage and any number of subscriptions (SUBSCRIBE, or the implicit one of a REFER).
 *
 * A request from the peer carries our tag in To and theirs in From; a response to our request
 * carries ours in From and theirs in To. Both lookups are here so the key is built in one place.
 */
import { type Dialog, dialogKey } from '../dialog.ts';
import type { SipMessage } from '../message.ts';

/** What a dialog usage must offer the core. */
export interface DialogUsage {
  /** The dialog ended under the usage (BYE, shutdown): end without sending anything. */
  dialogTerminated(reason: string): void;
}

export interface DialogEntry<S extends DialogUsage = DialogUsage, U extends DialogUsage = DialogUsage> {
  readonly dialog: Dialog;
  /** The INVITE usage, if the dialog was created or joined by an INVITE. */
  session: S | undefined;
  /** Subscriptions by `event;id` (RFC 6665 section 4.1.2.4: one dialog may carry several). */
  readonly subscriptions: Map<string, U>;
}

export class DialogTable<S extends DialogUsage = DialogUsage, U extends DialogUsage = DialogUsage> {
  private readonly entries = new Map<string, DialogEntry<S, U>>();

  get size(): number {
    return this.entries.size;
  }

  add(dialog: Dialog): DialogEntry<S, U> {
    const existing = this.entries.get(dialog.key);
    if (existing) return existing;
    const entry: DialogEntry<S, U> = { dialog, session: undefined, subscriptions: new Map() };
    this.entries.set(dialog.key, entry);
    return entry;
  }

  get(callId: string, localTag: string, remoteTag: string): DialogEntry<S, U> | undefined {
    return this.entries.get(dialogKey({ callId, localTag, remoteTag }));
  }

  /** The dialog a request from the peer belongs to (our tag is its To tag). */
  forRequest(req: SipMessage): DialogEntry<S, U> | undefined {
    const local = req.to.tag;
    if (local === undefined) return undefined;
    return this.get(req.callId, local, req.from.tag ?? '');
  }

  /** The dialog a response to one of our requests belongs to (our tag is its From tag). */
  forResponse(res: SipMessage): DialogEntry<S, U> | undefined {
    const remote = res.to.tag;
    if (remote === undefined) return undefined;
    return this.get(res.callId, res.from.tag ?? '', remote);
  }

  /** Removes the dialog when no usage is left on it (RFC 5057 section 5). */
  release(entry: DialogEntry<S, U>): void {
    if (entry.session !== undefined || entry.subscriptions.size > 0) return;
    this.remove(entry);
  }

  remove(entry: DialogEntry<S, U>): void {
    if (this.entries.get(entry.dialog.key) === entry) this.entries.delete(entry.dialog.key);
    if (entry.dialog.state !== 'terminated') entry.dialog.transition('terminated');
  }

  values(): IterableIterator<DialogEntry<S, U>> {
    return this.entries.values();
  }
}
