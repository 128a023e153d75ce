/** The contact card's "Chat" button: opens (or creates) the 1:1 conversation with that person. */
import type { User } from '@parley/protocol';
import { Button } from '../ui/index.ts';
import { useClient, useSignedInUser } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { navigate } from '../router/router.tsx';

export function ChatWithButton({ user }: { user: User }) {
  const client = useClient();
  const me = useSignedInUser();
  const open = useAction();
  if (user.id === me.id) return null;
  return (
    <>
      <Button
        variant="primary"
        busy={open.busy}
        onClick={() =>
          void open.run(async () => {
            const c = await client.chat.open([user.id]);
            navigate(`/chat/${encodeURIComponent(c.id)}`);
          })
        }
      >
        Chat
      </Button>
      {open.error && <span className="field-error"> {open.error}</span>}
    </>
  );
}
