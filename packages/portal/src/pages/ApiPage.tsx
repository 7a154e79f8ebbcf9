// One API: owner team and contact, versions × environments with state and gateway URL, the rendered OpenAPI
// reference (renderer loaded only here), a try-it panel that calls the gateway with one of the user's keys, and
// the changes between two versions.
import { lazy, Suspense, useMemo, useState } from 'react';
import { api, problemText, type Api, type ApiChange } from '../api';
import { useLoad } from '../hooks';
import { session } from '../session';
import { operations } from '../openapi';
import { ErrorMessage, StateBadge } from '../components/ui';

const Reference = lazy(() => import('../components/Reference'));

function newestVersion(a: Api): string {
  return [...a.spec.versions].sort((x, y) => Number(y.name.slice(1)) - Number(x.name.slice(1)))[0]?.name ?? 'v1';
}

function VersionsTable({ a }: { a: Api }) {
  const urls = a.status?.gatewayUrls ?? {};
  return (
    <div className="table-wrap">
      <table>
        <caption>Versions and environments</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Environment</th>
            <th scope="col">State</th>
            <th scope="col">Gateway URL</th>
            <th scope="col">Sunset</th>
          </tr>
        </thead>
        <tbody>
          {a.spec.versions.flatMap((v) => {
            const envs = Object.entries(v.environments);
            if (envs.length === 0)
              return [
                <tr key={v.name}>
                  <td>
                    {v.name} <span className="muted">{v.revision}</span>
                  </td>
                  <td colSpan={4}>not published anywhere yet</td>
                </tr>,
              ];
            return envs.map(([env, e]) => (
              <tr key={`${v.name}-${env}`}>
                <td>
                  {v.name} <span className="muted">{v.revision}</span>
                </td>
                <td>{env}</td>
                <td>
                  <StateBadge state={e.state} />
                </td>
                <td>{urls[v.name]?.[env] ? <code>{urls[v.name][env]}</code> : <span className="muted">no gateway</span>}</td>
                <td>{e.sunset ? `${e.sunset}${e.successor ? ` → ${e.successor}` : ''}` : ''}</td>
              </tr>
            ));
          })}
        </tbody>
      </table>
    </div>
  );
}

interface TryResult {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: string;
  ms: number;
}

function TryIt({ a, doc, version }: { a: Api; doc: Record<string, unknown> | undefined; version: string }) {
  const urls = a.status?.gatewayUrls?.[version] ?? {};
  const served = Object.entries(a.spec.versions.find((v) => v.name === version)?.environments ?? {})
    .filter(([env, e]) => (e.state === 'published' || e.state === 'deprecated') && urls[env])
    .map(([env]) => env);
  const ops = useMemo(() => operations(doc), [doc]);
  const keys = session.keys();
  const [env, setEnv] = useState(served[0] ?? '');
  const [opKey, setOpKey] = useState('');
  const op = ops.find((o) => o.key === opKey) ?? ops.find((o) => o.method === 'GET') ?? ops[0];
  const [path, setPath] = useState<string>();
  const [chosenKey, setChosenKey] = useState(keys[0]?.key ?? '');
  const [pasted, setPasted] = useState('');
  const [body, setBody] = useState('');
  const [result, setResult] = useState<TryResult>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const effectivePath = path ?? op?.path ?? '/';
  const key = pasted.trim() || chosenKey;
  if (served.length === 0) return <p>This version is not published to an environment with a gateway yet.</p>;
  return (
    <form
      className="card tryit"
      aria-label="Try it"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        setResult(undefined);
        const started = performance.now();
        try {
          const headers: Record<string, string> = { 'x-api-key': key };
          const method = op?.method ?? 'GET';
          if (body.trim() !== '' && method !== 'GET' && method !== 'HEAD') headers['content-type'] = 'application/json';
          const res = await fetch(urls[env] + effectivePath, { method, headers, body: body.trim() !== '' && method !== 'GET' && method !== 'HEAD' ? body : undefined });
          const text = await res.text();
          let pretty = text;
          try {
            pretty = JSON.stringify(JSON.parse(text), null, 2);
          } catch {
            /* not JSON: shown as it is */
          }
          setResult({ status: res.status, statusText: res.statusText, headers: [...res.headers.entries()], body: pretty, ms: Math.round(performance.now() - started) });
        } catch (err) {
          setError(
            `${problemText(err)}. The browser could not read the gateway's answer: the gateway must allow this portal's origin (${location.origin}) with a CORS policy on the environment.`,
          );
        } finally {
          setBusy(false);
        }
      }}
    >
      <div className="fields">
        <div className="field">
          <label htmlFor="try-env">Environment</label>
          <select id="try-env" value={env} onChange={(e) => setEnv(e.target.value)}>
            {served.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="try-op">Operation</label>
          <select
            id="try-op"
            value={op?.key ?? ''}
            onChange={(e) => {
              setOpKey(e.target.value);
              setPath(undefined);
            }}
          >
            {ops.map((o) => (
              <option key={o.key} value={o.key}>
                {o.key}
                {o.summary ? ` — ${o.summary}` : ''}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor="try-path">Path and query</label>
        <input id="try-path" value={effectivePath} onChange={(e) => setPath(e.target.value)} />
        <p className="hint">
          Sent to <code>{urls[env]}</code>
          {effectivePath}
        </p>
      </div>
      <div className="fields">
        {keys.length > 0 && (
          <div className="field">
            <label htmlFor="try-key">Key from this session</label>
            <select id="try-key" value={chosenKey} onChange={(e) => setChosenKey(e.target.value)}>
              {keys.map((k) => (
                <option key={k.credential} value={k.key}>
                  {k.application}: {k.key.slice(0, 10)}…
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field grow">
          <label htmlFor="try-paste">{keys.length > 0 ? 'Or paste an API key' : 'API key'}</label>
          <input id="try-paste" type="password" autoComplete="off" value={pasted} onChange={(e) => setPasted(e.target.value)} placeholder="agk_…" />
        </div>
      </div>
      {op && op.method !== 'GET' && op.method !== 'HEAD' && (
        <div className="field">
          <label htmlFor="try-body">Request body (JSON)</label>
          <textarea id="try-body" rows={5} value={body} onChange={(e) => setBody(e.target.value)} />
        </div>
      )}
      <button type="submit" disabled={busy || key === ''}>
        {busy ? 'Sending…' : 'Send request'}
      </button>
      <ErrorMessage>{error}</ErrorMessage>
      {result && (
        <section aria-label="Response" className="response">
          <p>
            <strong>
              Status {result.status} {result.statusText}
            </strong>{' '}
            <span className="muted">in {result.ms} ms</span>
          </p>
          <h4>Headers</h4>
          <dl className="headers">
            {result.headers.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
          <h4>Body</h4>
          <pre tabIndex={0} aria-label="Response body">
            {result.body}
          </pre>
        </section>
      )}
    </form>
  );
}

function Changes({ a }: { a: Api }) {
  const names = a.spec.versions.map((v) => v.name);
  const [from, setFrom] = useState(names[0]);
  const [to, setTo] = useState(names[names.length - 1]);
  const diff = useLoad(async () => (from === to ? undefined : api.diff(a.metadata.name, { from, to })), [a.metadata.name, from, to]);
  if (names.length < 2) return <p>There is one version so far: nothing to compare.</p>;
  const groups = new Map<string, ApiChange[]>();
  for (const c of diff.data?.changes ?? []) groups.set(c.operation ?? 'The whole API', [...(groups.get(c.operation ?? 'The whole API') ?? []), c]);
  return (
    <div>
      <div className="fields">
        <div className="field">
          <label htmlFor="diff-from">From version</label>
          <select id="diff-from" value={from} onChange={(e) => setFrom(e.target.value)}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="diff-to">To version</label>
          <select id="diff-to" value={to} onChange={(e) => setTo(e.target.value)}>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </div>
      </div>
      <ErrorMessage>{diff.error}</ErrorMessage>
      {diff.data && (
        <p aria-live="polite">
          {diff.data.summary.breaking} breaking, {diff.data.summary.warning} warnings, {diff.data.summary.info} other changes from {diff.data.from} to {diff.data.to}.
        </p>
      )}
      {[...groups.entries()].map(([operation, changes]) => (
        <section key={operation} aria-label={`Changes to ${operation}`}>
          <h3>
            <code>{operation}</code>
          </h3>
          <ul className="changes">
            {changes.map((c) => (
              <li key={c.fingerprint} className={`change-${c.level}`}>
                <span className="pill">{c.level}</span> {c.operation !== undefined && c.text.startsWith(`${c.operation}: `) ? c.text.slice(c.operation.length + 2) : c.text}
                <div className="hint">Migration: {c.migration}</div>
                {(c.affectedConsumers ?? []).filter((x) => x.subscribed || x.requests > 0).length > 0 && (
                  <div className="hint">
                    Affects:{' '}
                    {(c.affectedConsumers ?? [])
                      .filter((x) => x.subscribed || x.requests > 0)
                      .map((x) => `${x.application}${x.team ? ` (${x.team})` : ''}: ${x.requests} call${x.requests === 1 ? '' : 's'} in 30 days${x.subscribed ? `, subscribed in ${x.environments.join(', ')}` : ''}`)
                      .join('; ')}
                  </div>
                )}
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

export default function ApiPage({ name }: { name: string }) {
  const loaded = useLoad(async () => {
    const a = await api.getApi(name);
    const team = await api.team(a.spec.owner).catch(() => undefined);
    return { a, team };
  }, [name]);
  const [version, setVersion] = useState<string>();
  const a = loaded.data?.a;
  const v = version ?? (a ? newestVersion(a) : undefined);
  const doc = useLoad(async () => (a && v ? api.openapi(a.metadata.name, v) : undefined), [a?.metadata.name, v]);
  if (loaded.loading && !a) return <p role="status">Loading {name}…</p>;
  if (loaded.error || !a) return <ErrorMessage>{loaded.error ?? `No API named ${name}`}</ErrorMessage>;
  const team = loaded.data?.team;
  const contact = a.spec.contact ?? team?.spec.contact;
  return (
    <article className="api-page" aria-labelledby="api-title">
      <h1 id="api-title">{a.spec.title ?? a.metadata.name}</h1>
      <p className="lead">{a.spec.description}</p>
      <dl className="facts">
        <div>
          <dt>Owner team</dt>
          <dd>{team?.spec.displayName ?? a.spec.owner}</dd>
        </div>
        <div>
          <dt>Contact</dt>
          <dd>
            {contact?.name ? `${contact.name} ` : ''}
            {contact?.email && <a href={`mailto:${contact.email}`}>{contact.email}</a>}
          </dd>
        </div>
        <div>
          <dt>Visibility</dt>
          <dd>{a.spec.visibility ?? 'internal'}</dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd>{(a.spec.tags ?? []).join(', ') || '—'}</dd>
        </div>
      </dl>
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <VersionsTable a={a} />
      </section>
      <section aria-labelledby="tryit-title">
        <h2 id="tryit-title">Try it</h2>
        <p className="hint">Sends a real request through the gateway with one of your keys. Keys you create on “My applications” in this session are offered here.</p>
        {doc.data ? <TryIt key={v} a={a} doc={doc.data} version={v!} /> : <p role="status">Loading…</p>}
      </section>
      <section aria-labelledby="changes-title">
        <h2 id="changes-title">Changes between versions</h2>
        <Changes a={a} />
      </section>
      <section aria-labelledby="reference-title">
        <div className="row-between">
          <h2 id="reference-title">API reference</h2>
          {a.spec.versions.length > 1 && (
            <div className="field inline">
              <label htmlFor="ref-version">Version</label>
              <select id="ref-version" value={v} onChange={(e) => setVersion(e.target.value)}>
                {a.spec.versions.map((x) => (
                  <option key={x.name}>{x.name}</option>
                ))}
              </select>
            </div>
          )}
        </div>
        <ErrorMessage>{doc.error}</ErrorMessage>
        <Suspense fallback={<p role="status">Loading the reference…</p>}>{doc.data && <Reference document={doc.data} servers={Object.entries(a.status?.gatewayUrls?.[v!] ?? {}).map(([env, url]) => ({ url, description: `${env} gateway` }))} />}</Suspense>
      </section>
    </article>
  );
}
