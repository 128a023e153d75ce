/**
 * "Set your status": availability (or back to automatic), for how long, appear offline, and a note
 * others see on the contact card. Saved over the realtime link (stored before it is answered).
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { ManualAvailability, OwnPresence, PresenceSet } from '@parley/protocol';
import { Banner, Button, Dialog, SelectField, TextField } from '../ui/index.ts';
import { useClient, useSessionObject } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { durationEnd, durationOptions, type StatusDuration } from './status-times.ts';
import { presenceStoreOf } from './presence-store.ts';

type Choice = ManualAvailability | 'automatic';

const choices: ReadonlyArray<{ value: Choice; label: string }> = [
  { value: 'automatic', label: 'Automatic (from your activity)' },
  { value: 'available', label: 'Available' },
  { value: 'busy', label: 'Busy' },
  { value: 'do_not_disturb', label: 'Do not disturb' },
  { value: 'be_right_back', label: 'Be right back' },
  { value: 'away', label: 'Appear away' },
  { value: 'appear_offline', label: 'Appear offline' },
];

export function StatusDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useClient();
  const session = useSessionObject();
  const [mine, setMine] = useState<OwnPresence | null>(null);
  const [choice, setChoice] = useState<Choice>('automatic');
  const [duration, setDuration] = useState<StatusDuration>('until_changed');
  const [note, setNote] = useState('');
  const action = useAction();
  const { setError } = action;

  useEffect(() => {
    if (!open) return;
    setError(null);
    client.presence.mine().then(
      (m) => {
        setMine(m);
        setChoice(m.manual?.availability ?? 'automatic');
        setDuration('until_changed');
        setNote(m.presence.note?.text ?? '');
      },
      (err: unknown) => setError(session.failed(err)),
    );
  }, [open, client, session, setError]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const settings: PresenceSet = {
      manual: choice === 'automatic' ? null : { availability: choice, until: durationEnd(duration) },
      note: note.trim() ? { text: note.trim(), until: null } : null,
    };
    const ok = await action.run(async () => presenceStoreOf(client).put(await client.presence.set(settings)));
    if (ok) onClose();
  };

  return (
    <Dialog open={open} title="Set your status" onClose={onClose}>
      <form className="form" onSubmit={save}>
        {action.error && <Banner tone="error">{action.error}</Banner>}
        <SelectField
          label="Availability"
          value={choice}
          options={choices}
          onChange={(e) => setChoice(e.target.value as Choice)}
        />
        <SelectField
          label="For how long"
          value={duration}
          options={durationOptions}
          disabled={choice === 'automatic'}
          onChange={(e) => setDuration(e.target.value as StatusDuration)}
        />
        <TextField
          label="Status note"
          hint="Shown on your contact card, such as “In the Leeds office today”."
          maxLength={280}
          value={note}
          onChange={(e) => setNote(e.target.value)}
        />
        {mine?.manual?.availability === 'appear_offline' && (
          <p className="muted">You appear offline to everyone else.</p>
        )}
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={action.busy}>
            Save status
          </Button>
          <Button onClick={onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
