// The portal's entry: the page shell (header with navigation, main landmark), sign-in, and the routes.
// Persona pages are loaded on demand so the catalog's first load stays small.
import { lazy, Suspense, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, problemText, type Whoami } from './api';
import { session } from './session';
import { Link, navigate, useLocation } from './router';
import { Catalog } from './pages/Catalog';
import { Me } from './me';
import './styles.css';

const ApiPage = lazy(() => import('./pages/ApiPage'));
const AppsPage = lazy(() => import('./pages/Apps'));
const ProducerPage = lazy(() => import('./pages/Producer'));
const AdminPage = lazy(() => import('./pages/Admin'));


interface SignInOption {
  href: string;
  label: string;
}

/** Single sign-on is offered for each identity provider the control plane's OpenAPI document advertises. */
function useOidc(): SignInOption[] {
  const [options, setOptions] = useState<SignInOption[]>([]);
  useEffect(() => {
    api.openapiDocument().then(
      (doc) => {
        const schemes = ((doc.components as Record<string, unknown> | undefined)?.securitySchemes ?? {}) as Record<string, { type?: string; 'x-apigov-sign-in'?: string; 'x-apigov-display-name'?: string }>;
        const back = `${location.pathname}${location.search.replace(/[?&]sso_error=[^&]*/, '')}`;
        setOptions(
          Object.values(schemes)
            .filter((s) => s.type === 'openIdConnect' && s['x-apigov-sign-in'])
            .map((s) => ({ href: `${s['x-apigov-sign-in']}?return=${encodeURIComponent(back)}`, label: s['x-apigov-display-name'] ?? 'your organisation' })),
        );
      },
      () => undefined,
    );
  }, []);
  return options;
}

/** What a failed single sign-on came back with (the control plane redirects here with ?sso_error=…). */
function ssoError(): string | undefined {
  return new URLSearchParams(location.search).get('sso_error') ?? undefined;
}

function SignIn({ onSignedIn }: { onSignedIn: (me: Whoami) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(ssoError);
  const [busy, setBusy] = useState(false);
  const oidc = useOidc();
  return (
    <main id="main" className="signin">
      <h1>Sign in to the apigov developer portal</h1>
      <form
        className="card"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const me = await api.whoami(token.trim());
            if (!me.name || me.name === 'anonymous') throw new Error('This token is not recognised.');
            session.signIn(token.trim());
            onSignedIn(me);
          } catch (err) {
            setError(problemText(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label htmlFor="token">Access token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" required value={token} onChange={(e) => setToken(e.target.value)} />
        <p className="hint">
          Ask your platform team for a token (they make one with <code>apigov users create</code>); tokens for automation come from <code>apigov tokens create</code>.
        </p>
        {error && (
          <p role="alert" className="alert-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {oidc.map((o) => (
          <a key={o.href} className="button secondary" href={o.href}>
            Sign in with {o.label}
          </a>
        ))}
      </form>
    </main>
  );
}

function teamsOf(me: Whoami): string[] {
  return me.teams?.map((t) => t.team) ?? (me.team ? [me.team] : []);
}

function Shell({ me, onSignOut }: { me: Whoami; onSignOut: () => void }) {
  const { path } = useLocation();
  const nav: Array<[string, string]> = [['/', 'Catalog']];
  if (me.team) nav.push(['/apps', 'My applications'], ['/team', "My team's APIs"]);
  if (me.admin) nav.push(['/platform', 'Platform']);
  const current = (to: string) => (to === '/' ? path === '/' || path.startsWith('/apis/') : path.startsWith(to));
  let page;
  const apiMatch = /^\/apis\/([^/]+)\/?$/.exec(path);
  if (apiMatch) page = <ApiPage name={decodeURIComponent(apiMatch[1])} />;
  else if (path.startsWith('/apps')) page = <AppsPage />;
  else if (path.startsWith('/team')) page = <ProducerPage />;
  else if (path.startsWith('/platform')) page = <AdminPage />;
  else page = <Catalog />;
  return (
    <Me.Provider value={me}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          apigov <span>developer portal</span>
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map(([to, label]) => (
              <li key={to}>
                <Link to={to} aria-current={current(to) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            Signed in as <strong>{me.name}</strong>
            {teamsOf(me).length > 0 ? ` (${teamsOf(me).join(', ')})` : ''}
          </span>
          <button type="button" className="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p role="status">Loading…</p>}>{page}</Suspense>
      </main>
    </Me.Provider>
  );
}

function App() {
  const [me, setMe] = useState<Whoami>();
  // a pasted token in this tab, or else a single sign-on session cookie: whoami tells which, if any
  const [checking, setChecking] = useState(true);
  useEffect(() => {
    api.whoami().then(
      (w) => {
        setMe(w);
        setChecking(false);
      },
      () => {
        session.signOut();
        setChecking(false);
      },
    );
  }, []);
  if (checking) return <p role="status">Loading…</p>;
  if (!me) return <SignIn onSignedIn={setMe} />;
  return (
    <Shell
      me={me}
      onSignOut={async () => {
        const single = me.session !== undefined;
        const out = single ? await api.signOut().catch(() => undefined) : undefined;
        session.signOut();
        setMe(undefined);
        if (out?.endSessionUrl) location.href = out.endSessionUrl;
        else navigate('/');
      }}
    />
  );
}

createRoot(document.getElementById('root')!).render(<App />);
