// The API catalog's search index: the row an Api resource becomes in `api_search`, and the full-text
// query (prefix terms, filters, visibility, ranking, cursor pagination) run against it.
import { createHash } from 'node:crypto';
import { ApigovError, canonicalJson, type AnyResource, type ApiSpec, type LifecycleState, type Visibility } from '@apigov/model';
import type { Queryable, Row } from './db.js';
import type { SearchHit, SearchPage, SearchQuery } from './types.js';

type ApiResource = Extract<AnyResource, { kind: 'Api' }>;
type StateEntry = SearchHit['states'][number];

/** Facet strings kept in one GIN-indexed array, so any mix of filters is a single `@>`. */
const facet = {
  env: (e: string) => `env:${e}`,
  state: (s: string) => `state:${s}`,
  envState: (e: string, s: string) => `env-state:${e}:${s}`,
};

const words = (text: string): string[] => text.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);

export function apiSearchRow(api: ApiResource) {
  const spec: ApiSpec = api.spec;
  const states: StateEntry[] = [];
  const facets = new Set<string>();
  const paths: string[] = [];
  for (const v of spec.versions ?? []) {
    for (const [environment, e] of Object.entries(v.environments ?? {})) {
      const state: LifecycleState = e.state ?? 'draft';
      states.push({ version: v.name, environment, state });
      facets.add(facet.env(environment));
      facets.add(facet.state(state));
      facets.add(facet.envState(environment, state));
    }
    const docPaths = (v.openapi as { paths?: unknown } | undefined)?.paths;
    if (docPaths !== null && typeof docPaths === 'object') {
      for (const p of Object.keys(docPaths)) paths.push(p.replace(/[^\p{L}\p{N}]+/gu, ' ').trim());
    }
  }
  const tags = spec.tags ?? [];
  return {
    name: api.metadata.name,
    title: spec.title,
    description: spec.description ?? null,
    owner: spec.owner,
    tags,
    visibility: spec.visibility ?? 'internal',
    states,
    facets: [...facets].sort(),
    // the same path under several versions is listed once
    paths: [...new Set(paths.filter((p) => p !== ''))].join(' '),
    // and each word of them indexed once: ranking cost grows with the positions a vector holds
    pathWords: [...new Set(paths.flatMap((p) => p.split(' ')).filter((w) => w !== ''))].join(' '),
  };
}

export async function indexApi(q: Queryable, api: ApiResource): Promise<void> {
  const r = apiSearchRow(api);
  await q.query(
    `INSERT INTO api_search (name, title, description, owner, tags, visibility, states, facets, paths, document)
     SELECT $1, $2, $3, $4, t.tags, $5, $6::text::jsonb, f.facets, $8,
            setweight(to_tsvector('english', $1 || ' ' || $2) || to_tsvector('simple', $1 || ' ' || $2), 'A')
         || setweight(to_tsvector('english', array_to_string(t.tags, ' ') || ' ' || $4) || to_tsvector('simple', array_to_string(t.tags, ' ') || ' ' || $4), 'B')
         || setweight(to_tsvector('english', coalesce($3, '')) || to_tsvector('simple', coalesce($3, '')), 'C')
         || setweight(to_tsvector('english', $10) || to_tsvector('simple', $10), 'D')
       FROM (SELECT ARRAY(SELECT jsonb_array_elements_text($7::text::jsonb)) AS facets) f,
            (SELECT ARRAY(SELECT jsonb_array_elements_text($9::text::jsonb)) AS tags) t
     ON CONFLICT (name) DO UPDATE SET
       title = excluded.title, description = excluded.description, owner = excluded.owner, tags = excluded.tags,
       visibility = excluded.visibility, states = excluded.states, facets = excluded.facets, paths = excluded.paths,
       document = excluded.document`,
    [r.name, r.title, r.description, r.owner, r.visibility, JSON.stringify(r.states), JSON.stringify(r.facets), r.paths, JSON.stringify(r.tags), r.pathWords],
  );
}

export async function unindexApi(q: Queryable, name: string): Promise<void> {
  await q.query('DELETE FROM api_search WHERE name = $1', [name]);
}

/** PostgreSQL's english stop words (tsearch_data/english.stop): words the english configuration ignores. */
const STOP_WORDS = new Set(
  `i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it its itself
  they them their theirs themselves what which who whom this that these those am is are was were be been being have has had having
  do does did doing a an the and but if or because as until while of at by for with about against between into through during
  before after above below to from up down in out on off over under again further then once here there when where why how all any
  both each few more most other some such no nor not only own same so than too very s t can will just don should now`.split(/\s+/),
);

const MAX_WORD = 100;
const MAX_TERMS = 16;

/**
 * The prefix terms of a search: each word of `text` (split on anything but letters and digits, so tsquery
 * operators cannot get in) as `word:*`, lower-cased; stop words are left out unless there is nothing else.
 */
export function prefixTerms(text: string): string[] {
  // PostgreSQL refuses words over 2047 bytes; nobody types them, and a query needs only so many words
  const all = [...new Set(words(text).map((w) => w.toLowerCase()))].filter((w) => w.length <= MAX_WORD).slice(0, MAX_TERMS);
  const meaningful = all.filter((w) => !STOP_WORDS.has(w));
  return (meaningful.length > 0 ? meaningful : all).map((w) => `${w}:*`);
}

/**
 * The tsquery of a search: the prefix terms ANDed. Each term matches the english stem (`payments` finds
 * `payment`) or the plain word (`notifica` finds `notifications`, whose english stem `notif` it does not prefix);
 * the index holds both forms. Immutable functions of parameters: folded once when the query is planned.
 */
function tsqueryExpr(terms: string[], p: (value: unknown) => string): string {
  return terms
    .map((t) => {
      const param = p(t);
      const english = `to_tsquery('english', ${param})`;
      const simple = `to_tsquery('simple', ${param})`;
      // when the stem is the word itself, one branch is enough (ranking a duplicate OR costs a lot)
      return `(CASE WHEN ${english} = ${simple} THEN ${english} ELSE ${english} || ${simple} END)`;
    })
    .join(' && ');
}

interface Cursor {
  /** rank and name of the last hit on the previous page (keyset) */
  r: number;
  n: string;
  /** fingerprint of the query the cursor belongs to */
  f: string;
}

function fingerprint(query: SearchQuery): string {
  const { text, team, tag, environment, state, viewer } = query;
  const norm = { text: words(text ?? '').join(' ').toLowerCase(), team, tag, environment, state, viewer: { ...viewer, teams: [...viewer.teams].sort() } };
  return createHash('sha256').update(canonicalJson(norm)).digest('base64url').slice(0, 16);
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string, query: SearchQuery): Cursor {
  const malformed = (why: string) => new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `invalid search cursor: ${why}`);
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(raw)) throw malformed('not a cursor returned by a previous page');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw malformed('not a cursor returned by a previous page');
  }
  const c = value as Partial<Cursor> | null;
  if (c === null || typeof c !== 'object' || typeof c.r !== 'number' || !Number.isFinite(c.r) || typeof c.n !== 'string' || typeof c.f !== 'string') {
    throw malformed('not a cursor returned by a previous page');
  }
  if (c.f !== fingerprint(query)) throw malformed('it belongs to a different search');
  return { r: c.r, n: c.n, f: c.f };
}

const MAX_LIMIT = 1000;
/** Added to the rank of the API whose name is exactly the query. */
const EXACT_NAME_BOOST = 10;

/** One hit, or a row of nulls carrying only `total` when the page is empty. */
interface HitRow extends Row {
  name: string | null;
  title: string;
  description: string | null;
  owner: string;
  tags: string[];
  visibility: Visibility;
  states: StateEntry[];
  rank: number;
  total: number | string;
}

export async function searchApis(q: Queryable, query: SearchQuery): Promise<SearchPage> {
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIMIT) {
    throw new ApigovError('APIGOV_ERR_INPUT_MALFORMED', `limit must be an integer between 1 and ${MAX_LIMIT}`);
  }
  const cursor = query.cursor === undefined || query.cursor === '' ? undefined : decodeCursor(query.cursor, query);
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };

  // filters first: the WHERE clause is used twice (page and total)
  const where: string[] = [];
  const terms = prefixTerms(query.text ?? '');
  const hasText = terms.length > 0;
  let tsquery = '';
  if (hasText) {
    tsquery = `(${tsqueryExpr(terms, p)})`;
    where.push(`document @@ ${tsquery}`);
  }
  if (query.team !== undefined) where.push(`owner = ${p(query.team)}`);
  if (query.tag !== undefined) where.push(`tags @> ARRAY[${p(query.tag)}::text]`);
  let facetFilter: string | undefined;
  if (query.environment !== undefined && query.state !== undefined) facetFilter = facet.envState(query.environment, query.state);
  else if (query.environment !== undefined) facetFilter = facet.env(query.environment);
  else if (query.state !== undefined) facetFilter = facet.state(query.state);
  if (facetFilter !== undefined) where.push(`facets @> ARRAY[${p(facetFilter)}::text]`);
  const viewer = query.viewer;
  if (!viewer.admin) {
    if (viewer.anonymous) where.push(`visibility = 'public'`);
    else {
      const teams = `ARRAY(SELECT jsonb_array_elements_text(${p(JSON.stringify(viewer.teams))}::text::jsonb))`;
      where.push(`(visibility IN ('public', 'internal') OR (visibility = 'team-only' AND owner = ANY(${teams})))`);
    }
  }
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';

  let sql: string;
  if (hasText) {
    const exactName = p(words(query.text ?? '').join('-').toLowerCase());
    const rank = `(ts_rank_cd(document, ${tsquery}) + CASE WHEN name = ${exactName} THEN ${EXACT_NAME_BOOST} ELSE 0 END)::float8`;
    let keyset = '';
    if (cursor !== undefined) {
      const r = p(cursor.r);
      keyset = `WHERE rank < ${r}::float8 OR (rank = ${r}::float8 AND name > ${p(cursor.n)}::text)`;
    }
    sql = `WITH matches AS MATERIALIZED (SELECT name, ${rank} AS rank FROM api_search ${whereSql}),
              page AS (SELECT name, rank FROM matches ${keyset} ORDER BY rank DESC, name LIMIT ${p(query.limit + 1)})
         SELECT c.total, s.name, s.title, s.description, s.owner, s.tags, s.visibility, s.states, page.rank
           FROM (SELECT count(*) AS total FROM matches) c
           LEFT JOIN (page JOIN api_search s ON s.name = page.name) ON true
          ORDER BY page.rank DESC, page.name`;
  } else {
    const keyset = cursor === undefined ? '' : `${whereSql === '' ? 'WHERE' : ' AND'} name > ${p(cursor.n)}::text`;
    sql = `WITH page AS (SELECT name FROM api_search ${whereSql}${keyset} ORDER BY name LIMIT ${p(query.limit + 1)})
         SELECT c.total, s.name, s.title, s.description, s.owner, s.tags, s.visibility, s.states, 0::float8 AS rank
           FROM (SELECT count(*) AS total FROM api_search ${whereSql}) c
           LEFT JOIN (page JOIN api_search s ON s.name = page.name) ON true
          ORDER BY s.name`;
  }
  const rows = await q.query<HitRow>(sql, params);
  const total = rows.length > 0 ? Number(rows[0].total) : 0;
  const hits = rows.filter((r): r is HitRow & { name: string } => r.name !== null);
  const more = hits.length > query.limit;
  const items: SearchHit[] = hits.slice(0, query.limit).map((r) => {
    const hit: SearchHit = {
      name: r.name,
      title: r.title,
      owner: r.owner,
      tags: r.tags,
      visibility: r.visibility,
      states: r.states,
      rank: Number(r.rank),
    };
    if (r.description !== null) hit.description = r.description;
    return hit;
  });
  const last = items[items.length - 1];
  const page: SearchPage = { items, total };
  if (more && last !== undefined) page.nextCursor = encodeCursor({ r: last.rank, n: last.name, f: fingerprint(query) });
  return page;
}
