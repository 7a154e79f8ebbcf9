// The catalog: full-text search on the server (GET /v1/search), filters by team, tag, environment and lifecycle
// state, cursor pagination as the virtualized list scrolls. The server returns only what the caller may see.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, problemText, type Environment, type SearchItem, type Team } from '../api';
import { Link } from '../router';
import { VirtualList } from '../components/VirtualList';
import { ErrorMessage, StateBadge } from '../components/ui';

const PAGE = 100;

function Row({ item }: { item: SearchItem }) {
  return (
    <article className="api-row" aria-labelledby={`api-${item.name}`}>
      <h3 id={`api-${item.name}`}>
        <Link to={`/apis/${encodeURIComponent(item.name)}`}>{item.title || item.name}</Link>{' '}
        <span className="muted">{item.name}</span>
      </h3>
      <p className="desc">{item.description}</p>
      <p className="meta">
        <span>Owner: {item.owner}</span>
        <span className={`pill vis-${item.visibility}`}>{item.visibility}</span>
        {item.states.slice(0, 4).map((s) => (
          <span key={`${s.version}-${s.environment}`} className="chip">
            {s.version} {s.environment} <StateBadge state={s.state} />
          </span>
        ))}
        {item.tags.slice(0, 4).map((t) => (
          <span key={t} className="tag">
            #{t}
          </span>
        ))}
      </p>
    </article>
  );
}

export function Catalog() {
  const [q, setQ] = useState(() => new URLSearchParams(location.search).get('q') ?? '');
  const [team, setTeam] = useState('');
  const [tag, setTag] = useState('');
  const [environment, setEnvironment] = useState('');
  const [state, setState] = useState('');
  const [items, setItems] = useState<SearchItem[]>([]);
  const [total, setTotal] = useState<number>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [teams, setTeams] = useState<Team[]>([]);
  const [envs, setEnvs] = useState<Environment[]>([]);
  const generation = useRef(0);
  const fetching = useRef(false);

  useEffect(() => {
    api.teams().then((p) => setTeams(p.items), () => undefined);
    api.environments().then((p) => setEnvs(p.items.sort((a, b) => (a.spec.order ?? 0) - (b.spec.order ?? 0))), () => undefined);
  }, []);

  // a new query (debounced while typing) starts over from the first page
  useEffect(() => {
    const gen = ++generation.current;
    const t = setTimeout(async () => {
      setLoading(true);
      fetching.current = true;
      try {
        const page = await api.search({ q: q.trim(), team, tag: tag.trim(), environment, state, limit: PAGE });
        if (gen !== generation.current) return;
        setItems(page.items);
        setTotal(page.total);
        setCursor(page.nextCursor);
        setError(undefined);
      } catch (e) {
        if (gen === generation.current) setError(problemText(e));
      } finally {
        if (gen === generation.current) {
          setLoading(false);
          fetching.current = false;
        }
      }
    }, 200);
    return () => clearTimeout(t);
  }, [q, team, tag, environment, state]);

  const more = useCallback(async () => {
    if (!cursor || fetching.current) return;
    const gen = generation.current;
    fetching.current = true;
    try {
      const page = await api.search({ q: q.trim(), team, tag: tag.trim(), environment, state, limit: PAGE, cursor });
      if (gen !== generation.current) return;
      setItems((have) => [...have, ...page.items]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(problemText(e));
    } finally {
      fetching.current = false;
    }
  }, [cursor, q, team, tag, environment, state]);

  return (
    <section aria-labelledby="catalog-title" className="catalog">
      <h1 id="catalog-title">API catalog</h1>
      <form className="filters" role="search" aria-label="Search the catalog" onSubmit={(e) => e.preventDefault()}>
        <div className="field grow">
          <label htmlFor="q">Search APIs</label>
          <input id="q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="payments, invoices, billing…" />
        </div>
        <div className="field">
          <label htmlFor="f-team">Team</label>
          <select id="f-team" value={team} onChange={(e) => setTeam(e.target.value)}>
            <option value="">Any team</option>
            {teams.map((t) => (
              <option key={t.metadata.name} value={t.metadata.name}>
                {t.spec.displayName ?? t.metadata.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-tag">Tag</label>
          <input id="f-tag" value={tag} onChange={(e) => setTag(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="f-env">Environment</label>
          <select id="f-env" value={environment} onChange={(e) => setEnvironment(e.target.value)}>
            <option value="">Any environment</option>
            {envs.map((en) => (
              <option key={en.metadata.name} value={en.metadata.name}>
                {en.spec.displayName ?? en.metadata.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-state">Lifecycle state</label>
          <select id="f-state" value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">Any state</option>
            {['draft', 'published', 'deprecated', 'retired'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </form>
      <p role="status" className="count">
        {loading ? 'Searching…' : total === undefined ? '' : `${total} ${total === 1 ? 'API' : 'APIs'} found`}
      </p>
      <ErrorMessage>{error}</ErrorMessage>
      {items.length > 0 && <VirtualList items={items} total={total} rowHeight={112} label="APIs" keyOf={(i) => i.name} render={(i) => <Row item={i} />} onEndReached={more} />}
    </section>
  );
}
