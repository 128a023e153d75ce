/** The audit log, newest first, a page at a time: who did what, to what, when and from where. */
import { useState } from 'react';
import type { AuditEntry, Paged } from '@parley/protocol';
import { Banner, Button, EmptyState, Loading } from '../ui/index.ts';
import { useAction } from '../session/use-action.ts';
import { Table } from './Table.tsx';
import { useLoad } from './use-load.ts';
import { formatTime } from './format.ts';

export function AuditLogView({
  load,
  showTenant,
}: {
  load: (cursor?: string) => Promise<Paged<AuditEntry>>;
  showTenant?: boolean;
}) {
  const first = useLoad(() => load(), [load]);
  const [more, setMore] = useState<{ items: AuditEntry[]; next: string | null } | null>(null);
  const older = useAction();
  if (first.status === 'loading') return <Loading label="Loading the audit log…" />;
  if (first.status === 'failed') return <Banner tone="error">{first.error}</Banner>;
  const items = [...first.data.items, ...(more?.items ?? [])];
  const next = more ? more.next : first.data.nextCursor;
  if (!items.length) return <EmptyState title="Nothing has been recorded yet" />;
  return (
    <>
      <Table
        caption="Audit log"
        rows={items}
        rowKey={(e) => e.id}
        columns={[
          { header: 'When', cell: (e) => formatTime(e.at) },
          { header: 'Who', cell: (e) => e.actorAddress ?? 'system' },
          { header: 'Action', cell: (e) => e.action },
          ...(showTenant ? [{ header: 'Tenant', cell: (e: AuditEntry) => e.tenantId ?? '—' }] : []),
          { header: 'Target', cell: (e) => e.target ?? '—' },
          { header: 'From', cell: (e) => e.sourceAddress ?? '—' },
        ]}
      />
      {older.error && <Banner tone="error">{older.error}</Banner>}
      {next && (
        <Button
          busy={older.busy}
          onClick={() =>
            void older.run(async () => {
              const page = await load(next);
              setMore({ items: [...(more?.items ?? []), ...page.items], next: page.nextCursor });
            })
          }
        >
          Show older entries
        </Button>
      )}
    </>
  );
}
