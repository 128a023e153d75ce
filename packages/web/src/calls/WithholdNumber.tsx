/**
 * "Withhold my number": the user's setting that calls to phone numbers go out with `Privacy: id`
 * (the callee sees no number; the carrier still knows it, for billing and emergencies). A prefix such
 * as `*67` before a number withholds it on one call. In Settings, beside the user's number.
 */
import { useState } from 'react';
import { Banner } from '../ui/index.ts';
import { useLoad } from '../console/use-load.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';

export function WithholdNumber() {
  const client = useClient();
  const loaded = useLoad(() => client.telephony.callerId(), [client]);
  const save = useAction();
  // The user's choice once they made one here, else what was loaded: the box never shows a value
  // other than the setting's while it can be clicked.
  const [chosen, setWithheld] = useState<boolean | null>(null);
  if (loaded.status === 'failed') return <Banner tone="error">{loaded.error}</Banner>;
  const withheld = chosen ?? (loaded.status === 'ready' ? loaded.data.withheld : false);
  return (
    <div className="withhold-number">
      <label className="check">
        <input
          type="checkbox"
          checked={withheld}
          disabled={loaded.status !== 'ready' || save.busy}
          onChange={(e) => {
            const next = e.target.checked;
            setWithheld(next);
            void save.run(() => client.telephony.setCallerId(next)).then((ok) => ok || setWithheld(!next));
          }}
        />
        Withhold my number on phone calls
      </label>
      <p className="muted small">
        People you call see no number. To withhold it on one call only, dial *67 before the number.
      </p>
      {save.error && <Banner tone="error">{save.error}</Banner>}
    </div>
  );
}
