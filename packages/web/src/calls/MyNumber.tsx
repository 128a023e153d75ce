/**
 * The user's own phone number (their caller ID when they call a number; calls to it ring all their
 * devices), or that they have none yet: on the dial pad and in Settings.
 */
import type { Loaded } from '../console/use-load.ts';

export function MyNumber({ mine }: { mine: Loaded<{ number: string | null }> }) {
  return (
    <p className="my-number" role="status">
      {mine.status === 'ready' &&
        (mine.data.number ? (
          <>
            Your number: <strong className="number">{mine.data.number}</strong>
          </>
        ) : (
          'You have no phone number of your own yet; ask your administrator for one.'
        ))}
    </p>
  );
}
