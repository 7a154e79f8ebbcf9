// Platform: every API with owner, environments and attached policies; the approval queue; governance findings
// across the catalog (each API's newest version linted, at most 25 APIs per run); the audit log with filters and
// a chain-verification button; Git sync: the last sync, drift both ways (each Git-managed resource changed here with
// its field diff, resources no Git file declares) and gateways running an older snapshot.
import { useState } from 'react';
import { api, problemText, type AuditEvent, type AuditQuery, type AuditVerify, type Policy, type SearchItem, type SyncStatus } from '../api';
import { useLoad } from '../hooks';
import { Link } from '../router';
import { ErrorMessage, StateBadge, when } from '../components/ui';

const GOVERNANCE_LIMIT = 25;

function policyKinds(p: Policy): string {
  return Object.keys(p.spec)
    .filter((k) => k !== 'description' && k !== 'targetRef')
    .join(', ');
}

function EveryApi({ policies }: { policies: Policy[] }) {
  const [items, setItems] = useState<SearchItem[]>([]);
  const [cursor, setCursor] = useState<string>();
  const first = useLoad(async () => {
    const p = await api.search({ limit: 100 });
    setItems(p.items);
    setCursor(p.nextCursor);
    return p;
  }, []);
  const attached = (i: SearchItem) => {
    const envs = new Set(i.states.map((s) => s.environment));
    return policies.filter((p) => (p.spec.targetRef.kind === 'Api' && p.spec.targetRef.name === i.name) || (p.spec.targetRef.kind === 'Environment' && envs.has(p.spec.targetRef.name)));
  };
  return (
    <section aria-labelledby="every-title">
      <h2 id="every-title">Every API</h2>
      <ErrorMessage>{first.error}</ErrorMessage>
      <p role="status" className="count">
        {first.data ? `${first.data.total} APIs in the catalog` : 'Loading…'}
      </p>
      <div className="table-wrap">
        <table>
          <caption>Every API with its owner, environments and policies</caption>
          <thead>
            <tr>
              <th scope="col">API</th>
              <th scope="col">Owner</th>
              <th scope="col">Visibility</th>
              <th scope="col">Environments</th>
              <th scope="col">Policies</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.name}>
                <td>
                  <Link to={`/apis/${encodeURIComponent(i.name)}`}>{i.title ?? i.name}</Link>
                </td>
                <td>{i.owner}</td>
                <td>{i.visibility}</td>
                <td>
                  {i.states.length === 0
                    ? 'none'
                    : i.states.map((s) => (
                        <span key={`${s.version}-${s.environment}`} className="chip">
                          {s.version} {s.environment} <StateBadge state={s.state} />
                        </span>
                      ))}
                </td>
                <td>
                  {attached(i).map((p) => (
                    <div key={p.metadata.name}>
                      <strong>{p.metadata.name}</strong> <span className="muted">({policyKinds(p)})</span>
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor && (
        <button
          type="button"
          className="secondary"
          onClick={async () => {
            const p = await api.search({ limit: 100, cursor });
            setItems((have) => [...have, ...p.items]);
            setCursor(p.nextCursor);
          }}
        >
          Load more APIs
        </button>
      )}
    </section>
  );
}

function Approvals() {
  const pending = useLoad(() => api.subscriptions({ state: 'pending' }), []);
  const [reason, setReason] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const decide = async (name: string, action: 'approve' | 'reject') => {
    setError(undefined);
    setMessage(undefined);
    try {
      await api.decide(name, action, reason[name]);
      setMessage(`${action === 'approve' ? 'Approved' : 'Rejected'} ${name}.`);
      pending.reload();
    } catch (e) {
      setError(problemText(e));
    }
  };
  const items = pending.data?.items ?? [];
  return (
    <section aria-labelledby="queue-title">
      <h2 id="queue-title">Approval queue</h2>
      <ErrorMessage>{pending.error ?? error}</ErrorMessage>
      {message && (
        <p role="status" className="success">
          {message}
        </p>
      )}
      {items.length === 0 ? (
        <p>No subscription is waiting for approval.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>Subscriptions waiting for approval</caption>
            <thead>
              <tr>
                <th scope="col">Subscription</th>
                <th scope="col">Application</th>
                <th scope="col">API</th>
                <th scope="col">Environment</th>
                <th scope="col">Plan</th>
                <th scope="col">Decision</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.metadata.name}>
                  <td>{s.metadata.name}</td>
                  <td>{s.spec.application}</td>
                  <td>
                    {s.spec.api} {s.spec.version}
                  </td>
                  <td>{s.spec.environment}</td>
                  <td>{s.spec.plan}</td>
                  <td>
                    <div className="actions">
                      <button type="button" aria-label={`Approve ${s.metadata.name}`} onClick={() => decide(s.metadata.name, 'approve')}>
                        Approve
                      </button>
                      <label className="sr-only" htmlFor={`reason-${s.metadata.name}`}>
                        Reason for {s.metadata.name}
                      </label>
                      <input id={`reason-${s.metadata.name}`} placeholder="Reason (to reject)" value={reason[s.metadata.name] ?? ''} onChange={(e) => setReason({ ...reason, [s.metadata.name]: e.target.value })} />
                      <button type="button" className="danger" aria-label={`Reject ${s.metadata.name}`} disabled={!reason[s.metadata.name]} onClick={() => decide(s.metadata.name, 'reject')}>
                        Reject
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Production publishes an AccessPolicy holds for a platform admin: approve (the publish runs) or reject with a reason. */
function PublishApprovals() {
  const requests = useLoad(() => api.publishRequests(), []);
  const [reason, setReason] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const pending = (requests.data?.items ?? []).filter((r) => r.spec.state === 'pending');
  const decide = async (name: string, action: 'approve' | 'reject') => {
    setError(undefined);
    setMessage(undefined);
    try {
      await api.decidePublish(name, action, reason[name]);
      setMessage(`${action === 'approve' ? 'Approved and published' : 'Rejected'} ${name}.`);
      requests.reload();
    } catch (e) {
      setError(problemText(e));
    }
  };
  return (
    <section aria-labelledby="publish-queue-title">
      <h2 id="publish-queue-title">Production publishes waiting for approval</h2>
      <ErrorMessage>{requests.error ?? error}</ErrorMessage>
      {message && (
        <p role="status" className="success">
          {message}
        </p>
      )}
      {pending.length === 0 ? (
        <p>No production publish is waiting for approval.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>Publishes waiting for approval</caption>
            <thead>
              <tr>
                <th scope="col">API</th>
                <th scope="col">Environment</th>
                <th scope="col">Requested by</th>
                <th scope="col">Decision</th>
              </tr>
            </thead>
            <tbody>
              {pending.map((r) => (
                <tr key={r.metadata.name}>
                  <td>
                    {r.spec.api} {r.spec.version}
                  </td>
                  <td>{r.spec.environment}</td>
                  <td>{r.spec.requestedBy}</td>
                  <td>
                    <div className="actions">
                      <button type="button" aria-label={`Approve ${r.metadata.name}`} onClick={() => decide(r.metadata.name, 'approve')}>
                        Approve
                      </button>
                      <label className="sr-only" htmlFor={`publish-reason-${r.metadata.name}`}>
                        Reason for {r.metadata.name}
                      </label>
                      <input id={`publish-reason-${r.metadata.name}`} placeholder="Reason (to reject)" value={reason[r.metadata.name] ?? ''} onChange={(e) => setReason({ ...reason, [r.metadata.name]: e.target.value })} />
                      <button type="button" className="danger" aria-label={`Reject ${r.metadata.name}`} disabled={!reason[r.metadata.name]} onClick={() => decide(r.metadata.name, 'reject')}>
                        Reject
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface GovernanceRow {
  api: string;
  version: string;
  errors: number;
  warnings: number;
  first?: string;
  failed?: string;
}

function Governance() {
  const [rows, setRows] = useState<GovernanceRow[]>();
  const [busy, setBusy] = useState(false);
  const [total, setTotal] = useState(0);
  const run = async () => {
    setBusy(true);
    setRows([]);
    const page = await api.search({ limit: GOVERNANCE_LIMIT });
    setTotal(page.total);
    const out: GovernanceRow[] = [];
    // three at a time: bounded work for the control plane
    const queue = [...page.items];
    await Promise.all(
      [0, 1, 2].map(async () => {
        for (let i = queue.shift(); i; i = queue.shift()) {
          const version = [...new Set(i.states.map((s) => s.version))].sort((x, y) => Number(y.slice(1)) - Number(x.slice(1)))[0] ?? 'v1';
          try {
            const doc = await api.openapi(i.name, version);
            const r = await api.lint(JSON.stringify(doc));
            const errs = r.findings.filter((f) => f.severity === 'error');
            const worst = errs[0] ?? r.findings.find((f) => f.severity === 'warn');
            out.push({ api: i.name, version, errors: errs.length, warnings: r.findings.filter((f) => f.severity === 'warn').length, first: worst ? `${worst.rule}: ${worst.message}` : undefined });
          } catch (e) {
            out.push({ api: i.name, version, errors: 0, warnings: 0, failed: problemText(e) });
          }
          setRows([...out].sort((a, b) => b.errors - a.errors || b.warnings - a.warnings));
        }
      }),
    );
    setBusy(false);
  };
  return (
    <section aria-labelledby="gov-title">
      <h2 id="gov-title">Governance findings</h2>
      <p className="hint">Lints the newest version of up to {GOVERNANCE_LIMIT} APIs against the platform's rules.</p>
      <button type="button" onClick={run} disabled={busy}>
        {busy ? 'Linting…' : 'Lint the catalog'}
      </button>
      {rows && rows.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>
              Findings per API ({rows.length} of {total} linted)
            </caption>
            <thead>
              <tr>
                <th scope="col">API</th>
                <th scope="col">Version</th>
                <th scope="col">Errors</th>
                <th scope="col">Warnings</th>
                <th scope="col">Most severe finding</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.api}>
                  <td>{r.api}</td>
                  <td>{r.version}</td>
                  <td className={r.errors > 0 ? 'sev-error' : undefined}>{r.errors}</td>
                  <td>{r.warnings}</td>
                  <td>{r.failed ?? r.first ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Audit() {
  const [filters, setFilters] = useState<AuditQuery>({});
  const [applied, setApplied] = useState<AuditQuery>({});
  const [older, setOlder] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string>();
  const [verify, setVerify] = useState<AuditVerify>();
  const [error, setError] = useState<string>();
  const page = useLoad(async () => {
    const p = await api.audit({ ...applied, limit: 50 });
    setOlder([]);
    setCursor(p.nextCursor);
    return p;
  }, [JSON.stringify(applied)]);
  const events = [...(page.data?.items ?? []), ...older];
  const field = (key: keyof AuditQuery, label: string) => (
    <div className="field">
      <label htmlFor={`audit-${key}`}>{label}</label>
      <input id={`audit-${key}`} value={(filters[key] as string | undefined) ?? ''} onChange={(e) => setFilters({ ...filters, [key]: e.target.value })} />
    </div>
  );
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <div className="actions">
        <button
          type="button"
          className="secondary"
          onClick={async () => {
            setError(undefined);
            try {
              setVerify(await api.verifyAudit());
            } catch (e) {
              setError(problemText(e));
            }
          }}
        >
          Verify the audit chain
        </button>
        {verify && (
          <p role="status" className={verify.ok ? 'success' : 'alert-error'}>
            {verify.ok ? `Audit chain intact: ${verify.count} events verified.` : `Audit chain broken at event ${verify.seq}: ${verify.reason}`}
          </p>
        )}
      </div>
      <form
        className="fields"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
          page.reload(); // the same filters again: fetch the newest events
        }}
      >
        {field('actor', 'Actor')}
        {field('action', 'Action')}
        {field('kind', 'Kind')}
        {field('name', 'Name')}
        <div className="field">
          <span className="label-spacer" aria-hidden="true">
            &nbsp;
          </span>
          <button type="submit">Filter</button>
        </div>
      </form>
      <ErrorMessage>{page.error ?? error}</ErrorMessage>
      <div className="table-wrap">
        <table>
          <caption>Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Request</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>{when(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>
                  {e.kind} {e.name}
                </td>
                <td>
                  <code className="muted">{e.requestId}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor && (
        <button
          type="button"
          className="secondary"
          onClick={async () => {
            const p = await api.audit({ ...applied, limit: 50, before: cursor });
            setOlder((o) => [...o, ...p.items]);
            setCursor(p.nextCursor);
          }}
        >
          Load older events
        </button>
      )}
    </section>
  );
}

const short = (sha: string) => sha.slice(0, 12);
const shown = (v: unknown) => (v === null || v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

function GitSync() {
  const status = useLoad(() => api.syncStatus(), []);
  const s: SyncStatus | undefined = status.data;
  const drifted = s?.resources.filter((r) => r.state === 'OutOfSync') ?? [];
  const unmanaged = s?.resources.filter((r) => r.state === 'Unmanaged') ?? [];
  const behind = s?.gateways.filter((g) => g.state === 'Behind') ?? [];
  return (
    <section aria-labelledby="sync-title">
      <h2 id="sync-title">Git sync</h2>
      <ErrorMessage>{status.error}</ErrorMessage>
      {s && !s.configured && <p>No sync has run yet. Run <code>apigov sync --repo PATH_OR_URL</code> to manage the platform from Git.</p>}
      {s?.configured && (
        <>
          <p>
            {s.repo} <code>{s.branch}</code>
            {s.path ? ` (${s.path})` : ''}: on drift <strong>{s.settings?.onDrift}</strong>
            {s.settings?.selfHeal ? ', self-heal' : ''}
            {s.settings?.prune ? ', prune' : ''}.
          </p>
          {s.last && (
            <p role="status" className={s.last.refused ? 'alert-error' : 'success'}>
              {s.last.refused
                ? `Commit ${short(s.last.commit)} was refused: ${s.last.refused.reason}${s.lastGood ? ` (${short(s.lastGood.commit)} stays applied)` : ''}`
                : `Commit ${short(s.last.commit)}${s.last.author ? ` by ${s.last.author}` : ''} applied ${when(s.last.at)}: ${s.last.created} created, ${s.last.updated} updated, ${s.last.deleted} deleted, ${s.last.unchanged} unchanged.`}
            </p>
          )}
          <p>
            {s.counts.synced} synced, {s.counts.outOfSync} out of sync, {s.counts.unmanaged} unmanaged.
          </p>
        </>
      )}
      {drifted.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Out of sync: changed outside Git, or no longer in Git</caption>
            <thead>
              <tr>
                <th scope="col">Resource</th>
                <th scope="col">Git file</th>
                <th scope="col">Field</th>
                <th scope="col">In Git</th>
                <th scope="col">Live</th>
              </tr>
            </thead>
            <tbody>
              {drifted.flatMap((r) =>
                (r.diff ?? []).map((d, i) => (
                  <tr key={`${r.kind}/${r.name}/${d.path}`}>
                    <td>{i === 0 ? `${r.kind} ${r.name}` : ''}</td>
                    <td>{i === 0 ? <code>{r.path}</code> : ''}</td>
                    <td>
                      <code>{d.path}</code>
                    </td>
                    <td>{shown(d.git)}</td>
                    <td>{shown(d.live)}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      )}
      {s?.configured && unmanaged.length > 0 && (
        <details>
          <summary>{unmanaged.length} resources no Git file declares</summary>
          <ul>
            {unmanaged.map((r) => (
              <li key={`${r.kind}/${r.name}`}>
                {r.kind} {r.name}
              </li>
            ))}
          </ul>
        </details>
      )}
      {behind.length > 0 && (
        <p className="alert-error">
          Gateways behind the control plane: {behind.map((g) => `${g.gateway} (${g.environment}: v${g.appliedVersion} of v${g.snapshotVersion})`).join(', ')}
        </p>
      )}
    </section>
  );
}

export default function AdminPage() {
  const policies = useLoad(() => api.policies(), []);
  return (
    <section aria-labelledby="platform-title">
      <h1 id="platform-title">Platform</h1>
      <nav aria-label="Platform sections" className="actions">
        <a href="#every-title">Every API</a>
        <a href="#queue-title">Approval queue</a>
        <a href="#publish-queue-title">Production publishes</a>
        <a href="#gov-title">Governance findings</a>
        <a href="#audit-title">Audit log</a>
        <a href="#sync-title">Git sync</a>
      </nav>
      <Approvals />
      <PublishApprovals />
      <EveryApi policies={policies.data?.items ?? []} />
      <Governance />
      <Audit />
      <GitSync />
    </section>
  );
}
