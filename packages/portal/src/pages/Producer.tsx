// Producers: my team's APIs; register an API or a version from an uploaded spec, with lint findings (severity and
// line/column) shown before anything is saved; publish, deprecate and retire per environment; who consumes it.
import { useState } from 'react';
import { api, problemText, type Api, type Environment, type LintFinding, type LintResult } from '../api';
import { useLoad } from '../hooks';
import { useMe } from '../me';
import { Link, navigate, useLocation } from '../router';
import { ErrorMessage, StateBadge } from '../components/ui';

const ORDER: Record<string, number> = { error: 0, warn: 1, info: 2, hint: 3 };
const SEVERITY: Record<string, string> = { error: 'Error', warn: 'Warning', info: 'Info', hint: 'Hint' };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function Findings({ result }: { result: LintResult }) {
  const findings = [...result.findings].sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || (a.line ?? 0) - (b.line ?? 0));
  const count = (s: string) => findings.filter((f) => f.severity === s).length;
  return (
    <section aria-label="Lint findings">
      <p role="status">
        {findings.length === 0 ? 'No lint findings: the spec is ready to register.' : `${plural(count('error'), 'error')}, ${plural(count('warn'), 'warning')}, ${plural(count('info') + count('hint'), 'note')}.`}
      </p>
      {findings.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption>Lint findings by severity</caption>
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Location</th>
                <th scope="col">Rule</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {findings.map((f: LintFinding, i) => (
                <tr key={i}>
                  <td className={`sev-${f.severity}`}>
                    <strong>{SEVERITY[f.severity]}</strong>
                  </td>
                  <td>
                    {f.line !== undefined ? `line ${f.line}, column ${f.column ?? 1}` : ''}
                    <br />
                    <code className="muted">{f.path}</code>
                  </td>
                  <td>
                    <code>{f.rule}</code>
                  </td>
                  <td>{f.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Register({ team, onRegistered }: { team: string; onRegistered: (name: string) => void }) {
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState<string>();
  const [name, setName] = useState('');
  const [version, setVersion] = useState('');
  const [visibility, setVisibility] = useState<'internal' | 'public' | 'team-only'>('internal');
  const [upstream, setUpstream] = useState('');
  const [checked, setChecked] = useState<{ text: string; result: LintResult }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const current = checked && checked.text === text ? checked.result : undefined;
  const errors = current?.findings.filter((f) => f.severity === 'error').length ?? 0;
  return (
    <form
      className="card"
      aria-label="Register an API or a version"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        setBusy(true);
        try {
          const r = await api.register({ name: name.trim(), team, spec: text, visibility, ...(version.trim() && { version: version.trim() }), ...(upstream.trim() && { upstreams: { dev: upstream.trim() } }) });
          onRegistered(r.metadata.name);
        } catch (err) {
          setError(problemText(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Register an API or a new version</h2>
      <div className="field">
        <label htmlFor="spec-file">OpenAPI file</label>
        <input
          id="spec-file"
          type="file"
          accept=".yaml,.yml,.json,application/json,application/yaml"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (!f) return;
            const t = await f.text();
            setFileName(f.name);
            setText(t);
            setError(undefined);
            try {
              setChecked({ text: t, result: await api.lint(t) });
            } catch (err) {
              setError(problemText(err));
            }
          }}
        />
        <p className="hint">The spec is linted as soon as it is chosen; nothing is saved until you register.{fileName ? ` Loaded ${fileName}.` : ''}</p>
      </div>
      <div className="field">
        <label htmlFor="spec-text">OpenAPI document</label>
        <textarea id="spec-text" rows={8} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </div>
      <button
        type="button"
        className="secondary"
        disabled={text.trim() === ''}
        onClick={async () => {
          setError(undefined);
          try {
            setChecked({ text, result: await api.lint(text) });
          } catch (err) {
            setError(problemText(err));
          }
        }}
      >
        Check the spec
      </button>
      {current && <Findings result={current} />}
      <div className="fields">
        <div className="field">
          <label htmlFor="reg-name">API name</label>
          <input id="reg-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="reg-version">Version</label>
          <input id="reg-version" value={version} onChange={(e) => setVersion(e.target.value)} placeholder="from info.version" />
        </div>
        <div className="field">
          <label htmlFor="reg-visibility">Visibility</label>
          <select id="reg-visibility" value={visibility} onChange={(e) => setVisibility(e.target.value as typeof visibility)}>
            <option value="internal">internal</option>
            <option value="public">public</option>
            <option value="team-only">team-only</option>
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="reg-upstream">Upstream URL in dev</label>
          <input id="reg-upstream" type="url" value={upstream} onChange={(e) => setUpstream(e.target.value)} placeholder="http://127.0.0.1:4100" />
        </div>
      </div>
      <button type="submit" disabled={busy || !current || errors > 0}>
        Register
      </button>
      {current && errors > 0 && <p className="hint">Fix the errors above and upload the spec again to register it.</p>}
      {!current && text !== '' && <p className="hint">Check the spec before registering it.</p>}
      <ErrorMessage>{error}</ErrorMessage>
    </form>
  );
}

function Lifecycle({ a, envs, onChange }: { a: Api; envs: Environment[]; onChange: () => void }) {
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const [sunset, setSunset] = useState('');
  const [successor, setSuccessor] = useState('');
  const name = a.metadata.name;
  const act = async (what: string, f: () => Promise<unknown>) => {
    setError(undefined);
    setMessage(undefined);
    try {
      await f();
      setMessage(what);
      onChange();
    } catch (e) {
      setError(problemText(e));
    }
  };
  return (
    <div>
      <div className="field">
        <label htmlFor="sunset">Sunset date (for deprecation)</label>
        <input id="sunset" type="date" value={sunset} onChange={(e) => setSunset(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="successor">Successor version (for deprecation)</label>
        <select id="successor" value={successor} onChange={(e) => setSuccessor(e.target.value)}>
          <option value="">None</option>
          {a.spec.versions.map((v) => (
            <option key={v.name}>{v.name}</option>
          ))}
        </select>
      </div>
      <div className="table-wrap">
        <table>
          <caption>Lifecycle of {name} per environment</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Environment</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {a.spec.versions.flatMap((v) =>
              envs.map((en) => {
                const env = en.metadata.name;
                const e = v.environments[env];
                const state = e?.state;
                const label = `${v.name} in ${env}`;
                return (
                  <tr key={`${v.name}-${env}`}>
                    <td>{v.name}</td>
                    <td>{env}</td>
                    <td>{state ? <StateBadge state={state} /> : <span className="muted">not published</span>}</td>
                    <td className="actions">
                      {state !== 'published' && state !== 'deprecated' && (
                        <button type="button" aria-label={`Publish ${label}`} onClick={() => act(`Published ${label}.`, () => api.publish(name, v.name, { environment: env, ...(!e?.upstream && v.environments.dev?.upstream && { upstream: v.environments.dev.upstream }) }))}>
                          Publish
                        </button>
                      )}
                      {state === 'published' && (
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Deprecate ${label}`}
                          disabled={sunset === ''}
                          title={sunset === '' ? 'Choose a sunset date first' : undefined}
                          onClick={() => act(`Deprecated ${label}.`, () => api.deprecate(name, v.name, { environment: env, sunset, ...(successor && { successor }) }))}
                        >
                          Deprecate
                        </button>
                      )}
                      {(state === 'published' || state === 'deprecated') && (
                        <button type="button" className="danger" aria-label={`Retire ${label}`} onClick={() => act(`Retired ${label}.`, () => api.retire(name, v.name, { environment: env }))}>
                          Retire
                        </button>
                      )}
                    </td>
                  </tr>
                );
              }),
            )}
          </tbody>
        </table>
      </div>
      {message && (
        <p role="status" className="success">
          {message}
        </p>
      )}
      <ErrorMessage>{error}</ErrorMessage>
    </div>
  );
}

function Consumers({ name }: { name: string }) {
  const c = useLoad(() => Promise.all([api.consumers(name), api.stats(name, { minutes: 1440 })]), [name]);
  if (c.error) return <ErrorMessage>{c.error}</ErrorMessage>;
  if (!c.data) return <p role="status">Loading…</p>;
  const [consumers, stats] = c.data;
  const usage = new Map(stats.byApplication.map((b) => [b.application, b]));
  return (
    <div className="table-wrap">
      <table>
        <caption>Who consumes {name} (usage over the last 24 hours)</caption>
        <thead>
          <tr>
            <th scope="col">Application</th>
            <th scope="col">Team</th>
            <th scope="col">Version / environment</th>
            <th scope="col">Plan</th>
            <th scope="col">State</th>
            <th scope="col">Requests</th>
            <th scope="col">Errors</th>
            <th scope="col">p95</th>
          </tr>
        </thead>
        <tbody>
          {consumers.items.map((x) => {
            const u = usage.get(x.application);
            return (
              <tr key={x.subscription}>
                <td>{x.application}</td>
                <td>{x.team}</td>
                <td>
                  {x.version} / {x.environment}
                </td>
                <td>{x.plan}</td>
                <td>
                  <StateBadge state={x.state} />
                </td>
                <td>{u?.requests ?? 0}</td>
                <td>{u ? u.errors4xx + u.errors5xx : 0}</td>
                <td>{u ? `${Math.round(u.p95Ms)} ms` : '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export default function ProducerPage() {
  const me = useMe();
  const { search } = useLocation();
  const selected = search.get('api') ?? '';
  const list = useLoad(() => api.search({ team: me.team, limit: 100 }), [me.team]);
  const envs = useLoad(() => api.environments(), []);
  const one = useLoad(async () => (selected ? api.getApi(selected) : undefined), [selected]);
  const envItems = (envs.data?.items ?? []).sort((a, b) => (a.spec.order ?? 0) - (b.spec.order ?? 0));
  return (
    <section aria-labelledby="team-title">
      <h1 id="team-title">My team's APIs</h1>
      <p className="hint">APIs owned by the {me.team} team.</p>
      <ErrorMessage>{list.error}</ErrorMessage>
      <ul className="team-apis">
        {(list.data?.items ?? []).map((i) => (
          <li key={i.name}>
            <Link to={`/team?api=${encodeURIComponent(i.name)}`} aria-current={i.name === selected ? 'true' : undefined}>
              Manage {i.title ?? i.name}
            </Link>{' '}
            <span className="muted">({i.states.map((s) => `${s.version} ${s.environment} ${s.state}`).join(', ') || 'not published'})</span>
          </li>
        ))}
      </ul>
      {one.data && (
        <section className="card" aria-labelledby="manage-title">
          <h2 id="manage-title">
            {one.data.spec.title ?? one.data.metadata.name} <span className="muted">{one.data.metadata.name}</span>
          </h2>
          <p>
            <Link to={`/apis/${encodeURIComponent(one.data.metadata.name)}`}>Open its page in the catalog</Link>
          </p>
          <h3>Publish, deprecate and retire</h3>
          <Lifecycle
            a={one.data}
            envs={envItems}
            onChange={() => {
              one.reload();
              list.reload();
            }}
          />
          <h3>Consumers</h3>
          <Consumers name={one.data.metadata.name} />
        </section>
      )}
      <ErrorMessage>{one.error}</ErrorMessage>
      <Register
        team={me.team ?? ''}
        onRegistered={(name) => {
          list.reload();
          navigate(`/team?api=${encodeURIComponent(name)}`);
        }}
      />
    </section>
  );
}
