// Consumers: my team's applications; create one; subscribe it to an API on a plan (pending ones say who can
// approve); its keys (a new key is shown once, with a copy button; rotate; revoke); and its usage per API as charts.
import { useEffect, useState } from 'react';
import { api, problemText, type Application, type Credential, type Plan, type SearchItem, type Subscription } from '../api';
import { useLoad } from '../hooks';
import { useMe } from '../me';
import { session } from '../session';
import { Link } from '../router';
import { BarChart, perMinute } from '../components/Chart';
import { CopyButton, ErrorMessage, StateBadge, when } from '../components/ui';

const MINUTES = 30;

function Usage({ app, subscriptions, plans }: { app: string; subscriptions: Subscription[]; plans: Plan[] }) {
  const apis = [...new Set(subscriptions.filter((s) => s.spec.state === 'approved').map((s) => s.spec.api))];
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 10_000);
    return () => clearInterval(t);
  }, []);
  const stats = useLoad(
    () => Promise.all(apis.map(async (name) => ({ name, recent: await api.stats(name, { application: app, minutes: MINUTES }), day: await api.stats(name, { application: app, minutes: 1440 }) }))),
    [app, apis.join(','), tick],
  );
  if (apis.length === 0) return <p>No approved subscription yet: usage appears once the application calls an API.</p>;
  return (
    <div>
      <div className="actions">
        <button type="button" className="secondary" onClick={stats.reload}>
          Refresh usage
        </button>
        <span className="hint">Gateways report usage every few seconds; this view refreshes every 10 s.</span>
      </div>
      <ErrorMessage>{stats.error}</ErrorMessage>
      {stats.data?.map(({ name, recent, day }) => {
        const sub = subscriptions.find((s) => s.spec.api === name && s.spec.state === 'approved');
        const plan = plans.find((p) => p.metadata.name === sub?.spec.plan);
        const quota = plan?.spec.quota?.perDay;
        const t = recent.totals;
        return (
          <section key={name} aria-label={`Usage of ${name}`}>
            <h4>
              {name} <span className="muted">last {MINUTES} minutes</span>
            </h4>
            <p>
              {t.requests} {t.requests === 1 ? 'request' : 'requests'}, {t.errors4xx + t.errors5xx} errors, p95 latency {Math.round(t.p95Ms)} ms
            </p>
            <div className="charts">
              <BarChart title="Requests per minute" unit="" points={perMinute(recent.series, MINUTES, (r) => r.requests)} summary={`${t.requests} in ${MINUTES} minutes`} />
              <BarChart title="Errors per minute" unit="" points={perMinute(recent.series, MINUTES, (r) => r.errors4xx + r.errors5xx)} summary={`${t.errors4xx} client and ${t.errors5xx} server errors`} />
              <BarChart title="p95 latency" unit=" ms" points={perMinute(recent.series, MINUTES, (r) => Math.round(r.p95Ms))} summary={`p95 ${Math.round(t.p95Ms)} ms over the window`} />
            </div>
            {quota !== undefined ? (
              <div className="field">
                <label htmlFor={`quota-${app}-${name}`}>
                  Quota used (last 24 h, plan {plan?.spec.displayName ?? plan?.metadata.name}): {day.totals.requests} of {quota} requests per day
                </label>
                <progress id={`quota-${app}-${name}`} max={quota} value={Math.min(quota, day.totals.requests)} />
              </div>
            ) : (
              <p className="hint">Plan {sub?.spec.plan} has no daily quota.</p>
            )}
          </section>
        );
      })}
    </div>
  );
}

function Keys({ app }: { app: string }) {
  const keys = useLoad(() => api.keys(app), [app]);
  const [shown, setShown] = useState<{ key: string; note: string }>();
  const [error, setError] = useState<string>();
  const act = async (f: () => Promise<void>) => {
    setError(undefined);
    try {
      await f();
      keys.reload();
    } catch (e) {
      setError(problemText(e));
    }
  };
  return (
    <div>
      {shown && (
        <div className="card" role="region" aria-label="New API key">
          <p>
            <strong>Your new key — shown once.</strong> {shown.note} Copy it now; the portal keeps it only for this browser session.
          </p>
          <p className="key" aria-label="API key value">
            {shown.key}
          </p>
          <div className="actions">
            <CopyButton text={shown.key} label="Copy key" />
          </div>
        </div>
      )}
      <ErrorMessage>{error ?? keys.error}</ErrorMessage>
      <div className="table-wrap">
        <table>
          <caption>API keys of {app}</caption>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Starts with</th>
              <th scope="col">Expires</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {(keys.data?.items ?? []).map((c: Credential) => (
              <tr key={c.metadata.name}>
                <td>{c.metadata.name}</td>
                <td>
                  <code>{String(c.spec.prefix ?? '')}</code>
                </td>
                <td>{c.spec.expiresAt ? when(c.spec.expiresAt) : 'never'}</td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Rotate ${c.metadata.name}`}
                    onClick={() =>
                      act(async () => {
                        const r = await api.rotateKey(c.metadata.name);
                        session.rememberKey({ credential: r.credential.metadata.name, application: app, key: r.key, createdAt: new Date().toISOString() });
                        setShown({ key: r.key, note: r.previous ? `The previous key keeps working until ${when(r.previous.expiresAt)}.` : '' });
                      })
                    }
                  >
                    Rotate
                  </button>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Revoke ${c.metadata.name}`}
                    onClick={() =>
                      act(async () => {
                        if (!confirm(`Revoke ${c.metadata.name}? Calls with it fail at once.`)) return;
                        await api.revokeKey(c.metadata.name);
                        session.forgetKey(c.metadata.name);
                      })
                    }
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <button
        type="button"
        onClick={() =>
          act(async () => {
            const r = await api.createKey(app);
            session.rememberKey({ credential: r.credential.metadata.name, application: app, key: r.key, createdAt: new Date().toISOString() });
            setShown({ key: r.key, note: '' });
          })
        }
      >
        Create key
      </button>
    </div>
  );
}

function Subscribe({ app, plans, onDone }: { app: string; plans: Plan[]; onDone: () => void }) {
  const catalog = useLoad(() => api.search({ limit: 100 }), []);
  const [apiName, setApiName] = useState('');
  const [version, setVersion] = useState('');
  const [environment, setEnvironment] = useState('');
  const [plan, setPlan] = useState('');
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const items: SearchItem[] = catalog.data?.items ?? [];
  const chosen = items.find((i) => i.name === apiName);
  const versions = [...new Set(chosen?.states.map((s) => s.version) ?? [])];
  const envs = useLoad(() => api.environments(), []);
  const planOk = (p: Plan) => !environment || !p.spec.environments || p.spec.environments.length === 0 || p.spec.environments.includes(environment);
  return (
    <form
      className="card"
      aria-label={`Subscribe ${app} to an API`}
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        setDone(undefined);
        try {
          const s = await api.subscribe(app, { api: apiName, plan, environment, ...(version && { version }) });
          setDone(
            s.spec.state === 'pending'
              ? `Subscription ${s.metadata.name} is pending: the ${chosen?.owner ?? 'owner'} team (owners of ${apiName}) or a platform admin must approve it.`
              : `Subscription ${s.metadata.name} is ${s.spec.state}.`,
          );
          onDone();
        } catch (err) {
          setError(problemText(err));
        }
      }}
    >
      <h4>Subscribe to an API</h4>
      <div className="fields">
        <div className="field">
          <label htmlFor={`sub-api-${app}`}>API</label>
          <select id={`sub-api-${app}`} required value={apiName} onChange={(e) => setApiName(e.target.value)}>
            <option value="">Choose an API</option>
            {items.map((i) => (
              <option key={i.name} value={i.name}>
                {i.title ?? i.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`sub-version-${app}`}>Version</label>
          <select id={`sub-version-${app}`} value={version} onChange={(e) => setVersion(e.target.value)}>
            <option value="">Newest served</option>
            {versions.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`sub-env-${app}`}>Environment</label>
          <select id={`sub-env-${app}`} required value={environment} onChange={(e) => setEnvironment(e.target.value)}>
            <option value="">Choose</option>
            {(envs.data?.items ?? []).map((en) => (
              <option key={en.metadata.name} value={en.metadata.name}>
                {en.metadata.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`sub-plan-${app}`}>Plan</label>
          <select id={`sub-plan-${app}`} required value={plan} onChange={(e) => setPlan(e.target.value)}>
            <option value="">Choose</option>
            {plans.filter(planOk).map((p) => (
              <option key={p.metadata.name} value={p.metadata.name}>
                {p.spec.displayName ?? p.metadata.name} ({p.spec.approval === 'manual' ? 'needs approval' : 'approved at once'})
              </option>
            ))}
          </select>
        </div>
      </div>
      <button type="submit">Subscribe</button>
      <ErrorMessage>{error}</ErrorMessage>
      {done && (
        <p role="status" className="success">
          {done}
        </p>
      )}
    </form>
  );
}

function AppCard({ app, plans }: { app: Application; plans: Plan[] }) {
  const name = app.metadata.name;
  const subs = useLoad(() => api.subscriptions({ application: name }), [name]);
  const items = subs.data?.items ?? [];
  return (
    <section className="card" aria-labelledby={`app-${name}`}>
      <h2 id={`app-${name}`}>
        {app.spec.displayName ?? name} <span className="muted">{name}</span>
      </h2>
      <h3>Subscriptions</h3>
      <ErrorMessage>{subs.error}</ErrorMessage>
      {items.length === 0 ? (
        <p>No subscriptions yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption>Subscriptions of {name}</caption>
            <thead>
              <tr>
                <th scope="col">API</th>
                <th scope="col">Version</th>
                <th scope="col">Environment</th>
                <th scope="col">Plan</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.metadata.name}>
                  <td>
                    <Link to={`/apis/${encodeURIComponent(s.spec.api)}`}>{s.spec.api}</Link>
                  </td>
                  <td>{s.spec.version}</td>
                  <td>{s.spec.environment}</td>
                  <td>{s.spec.plan}</td>
                  <td>
                    <StateBadge state={s.spec.state ?? 'pending'} />
                    {s.spec.state === 'pending' && <span className="hint"> awaiting approval by the API's owner team or a platform admin</span>}
                    {s.spec.reason && <span className="hint"> ({s.spec.reason})</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Subscribe app={name} plans={plans} onDone={subs.reload} />
      <h3>Keys</h3>
      <Keys app={name} />
      <h3>Usage</h3>
      <Usage app={name} subscriptions={items} plans={plans} />
    </section>
  );
}

export default function AppsPage() {
  const me = useMe();
  const apps = useLoad(() => api.applications(), []);
  const plans = useLoad(() => api.plans(), []);
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string>();
  const mine = (apps.data?.items ?? []).filter((a) => me.admin || (me.teams ?? [{ team: me.team }]).some((t) => t.team === a.spec.owner));
  return (
    <section aria-labelledby="apps-title">
      <h1 id="apps-title">My applications</h1>
      <ErrorMessage>{apps.error}</ErrorMessage>
      {apps.loading && !apps.data && <p role="status">Loading…</p>}
      {mine.map((a) => (
        <AppCard key={a.metadata.name} app={a} plans={plans.data?.items ?? []} />
      ))}
      <form
        className="card"
        aria-label="Create an application"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            await api.createApplication(name.trim(), me.team ?? '', displayName.trim() || undefined);
            setName('');
            setDisplayName('');
            apps.reload();
          } catch (err) {
            setError(problemText(err));
          }
        }}
      >
        <h2>Create an application</h2>
        <div className="fields">
          <div className="field">
            <label htmlFor="new-app-name">Application name</label>
            <input id="new-app-name" required pattern="[a-z0-9]([a-z0-9-]*[a-z0-9])?" value={name} onChange={(e) => setName(e.target.value)} aria-describedby="new-app-hint" />
            <p id="new-app-hint" className="hint">
              Lower-case letters, digits and dashes.
            </p>
          </div>
          <div className="field grow">
            <label htmlFor="new-app-display">Display name</label>
            <input id="new-app-display" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
          </div>
        </div>
        <button type="submit">Create application</button>
        <ErrorMessage>{error}</ErrorMessage>
      </form>
    </section>
  );
}
