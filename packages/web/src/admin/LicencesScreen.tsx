/**
 * Tenant admin: licences (seats held per plan, and how many are assigned), and who holds a seat: give a
 * user a seat, take it back. Seats cannot go below the seats assigned (the server says so).
 */
import { useState } from 'react';
import { Banner, Button, EmptyState, SelectField, TextField } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { useAction } from '../session/use-action.ts';
import { LoadedView, Screen } from '../console/Screen.tsx';
import { Table } from '../console/Table.tsx';
import { useLoad } from '../console/use-load.ts';
import { formatAmount, formatTime } from '../console/format.ts';
import '../console/console.css';

export default function LicencesScreen() {
  const client = useClient();
  const data = useLoad(async () => {
    const [plans, licences, assignments, users] = await Promise.all([
      client.admin.plans(),
      client.admin.licences(),
      client.admin.assignments(),
      client.admin.listUsers({ limit: 200 }),
    ]);
    return {
      plans: plans.items,
      licences: licences.items,
      assignments: assignments.items,
      users: users.items,
    };
  }, [client]);
  const act = useAction();
  const [planId, setPlanId] = useState('');
  const [seats, setSeats] = useState('1');
  const [assignUser, setAssignUser] = useState('');
  const [assignPlan, setAssignPlan] = useState('');

  return (
    <Screen title="Licences">
      {act.error && <Banner tone="error">{act.error}</Banner>}
      <LoadedView
        loaded={data}
        what="licences"
        ready={(d) => {
          const planName = (id: string) => d.plans.find((p) => p.id === id)?.name ?? id;
          const userName = (id: string) => {
            const u = d.users.find((x) => x.id === id);
            return u ? `${u.displayName} (${u.address})` : id;
          };
          const chosenPlan = planId || d.plans[0]?.id || '';
          const chosenAssignPlan = assignPlan || d.licences[0]?.planId || '';
          const chosenUser = assignUser || d.users[0]?.id || '';
          return (
            <>
              <div className="subsection">
                <h2>Seats held</h2>
                {d.licences.length === 0 ? (
                  <EmptyState title="No licences yet">Choose a plan below and the seats to hold.</EmptyState>
                ) : (
                  <Table
                    caption="Licences"
                    rows={d.licences}
                    rowKey={(l) => l.planId}
                    columns={[
                      { header: 'Plan', cell: (l) => l.planName },
                      { header: 'Seats', cell: (l) => l.seats, numeric: true },
                      { header: 'Assigned', cell: (l) => l.assigned, numeric: true },
                      { header: 'Free', cell: (l) => l.seats - l.assigned, numeric: true },
                    ]}
                  />
                )}
                {d.plans.length > 0 ? (
                  <form
                    className="form"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void act
                        .run(() => client.admin.setSeats(chosenPlan, Number(seats)))
                        .then((ok) => ok && data.reload());
                    }}
                  >
                    <SelectField
                      label="Plan"
                      value={chosenPlan}
                      onChange={(e) => setPlanId(e.target.value)}
                      options={d.plans.map((p) => ({
                        value: p.id,
                        label: `${p.name} (${formatAmount(p.pricePerUserMonth)} per user a month)`,
                      }))}
                    />
                    <TextField
                      label="Seats to hold"
                      type="number"
                      min={0}
                      inputMode="numeric"
                      value={seats}
                      hint="0 ends the licence."
                      onChange={(e) => setSeats(e.target.value)}
                    />
                    <div className="form-actions">
                      <Button type="submit" variant="primary" busy={act.busy}>
                        Set seats
                      </Button>
                    </div>
                  </form>
                ) : (
                  <EmptyState title="No plans are offered yet">
                    The service provider has not published a plan.
                  </EmptyState>
                )}
              </div>
              <div className="subsection">
                <h2>Who holds a seat</h2>
                {d.assignments.length === 0 ? (
                  <EmptyState title="No seats are assigned" />
                ) : (
                  <Table
                    caption="Seat assignments"
                    rows={d.assignments}
                    rowKey={(a) => `${a.userId}:${a.planId}`}
                    columns={[
                      { header: 'User', cell: (a) => userName(a.userId) },
                      { header: 'Plan', cell: (a) => planName(a.planId) },
                      { header: 'Since', cell: (a) => formatTime(a.assignedAt) },
                      {
                        header: 'Actions',
                        cell: (a) => (
                          <Button
                            aria-label={`Take back the ${planName(a.planId)} seat from ${userName(a.userId)}`}
                            busy={act.busy}
                            onClick={() =>
                              void act
                                .run(() => client.admin.unassign(a.userId, a.planId))
                                .then((ok) => ok && data.reload())
                            }
                          >
                            Take back
                          </Button>
                        ),
                      },
                    ]}
                  />
                )}
                {d.licences.length > 0 && d.users.length > 0 && (
                  <form
                    className="form"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void act
                        .run(() => client.admin.assign(chosenUser, chosenAssignPlan))
                        .then((ok) => ok && data.reload());
                    }}
                  >
                    <SelectField
                      label="User"
                      value={chosenUser}
                      onChange={(e) => setAssignUser(e.target.value)}
                      options={d.users.map((u) => ({
                        value: u.id,
                        label: `${u.displayName} (${u.address})`,
                      }))}
                    />
                    <SelectField
                      label="Seat of plan"
                      value={chosenAssignPlan}
                      onChange={(e) => setAssignPlan(e.target.value)}
                      options={d.licences.map((l) => ({ value: l.planId, label: l.planName }))}
                    />
                    <div className="form-actions">
                      <Button type="submit" variant="primary" busy={act.busy}>
                        Give a seat
                      </Button>
                    </div>
                  </form>
                )}
              </div>
            </>
          );
        }}
      />
    </Screen>
  );
}
