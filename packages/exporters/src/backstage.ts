// --format backstage: the catalog as Backstage entities (a Group and a System per team, a User per person, an API per
// apigov API whose definition Backstage reads from the control plane, a Component per application with the APIs it
// consumes) and a scaffolder Template whose form registers an API with apigov.
import type { AnyResource, ApiSpec } from '@apigov/model';
import { ofKind, type ExportOptions, type ExportResult, type ExportWarning } from './export.js';

const BACKSTAGE = 'backstage.io/v1alpha1';
/** Backstage's tag format: lowercase words of [a-z0-9:+#] joined by '-' */
const TAG = /^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$/;

type Entity = Record<string, unknown>;

function major(name: string): number {
  return Number(name.slice(1));
}

/** experimental until published somewhere, production while published, deprecated once only deprecated or retired. */
function lifecycleOf(v: ApiSpec['versions'][number]): string {
  const states = Object.values(v.environments).map((e) => e.state);
  if (states.includes('published')) return 'production';
  if (states.includes('deprecated') || states.includes('retired')) return 'deprecated';
  return 'experimental';
}

function apiEntity(api: Extract<AnyResource, { kind: 'Api' }>, options: ExportOptions, warnings: ExportWarning[]): Entity {
  const spec = api.spec;
  const versions = [...spec.versions].sort((a, b) => major(b.name) - major(a.name));
  const newest = versions[0];
  // the definition Backstage shows: the newest version that is served somewhere, else the newest
  const shown = versions.find((v) => Object.values(v.environments).some((e) => e.state === 'published' || e.state === 'deprecated')) ?? newest;
  const tags: string[] = [];
  for (const t of spec.tags) {
    const tag = t.replace(/[._]/g, '-');
    if (TAG.test(tag)) {
      if (tag !== t) warnings.push({ resource: `Api/${api.metadata.name}`, what: 'tags', message: `tag '${t}' is written '${tag}' (Backstage tags allow only [a-z0-9:+#] and '-')` });
      tags.push(tag);
    } else warnings.push({ resource: `Api/${api.metadata.name}`, what: 'tags', message: `tag '${t}' left out: Backstage tags allow only [a-z0-9:+#] and '-'` });
  }
  const states: Record<string, Record<string, string>> = {};
  for (const v of [...spec.versions].sort((a, b) => major(a.name) - major(b.name))) {
    states[v.name] = Object.fromEntries(Object.entries(v.environments).sort(([a], [b]) => a.localeCompare(b)).map(([env, e]) => [env, e.state]));
  }
  const system = api.metadata.labels?.['apigov.dev/system'] ?? spec.owner;
  return {
    apiVersion: BACKSTAGE,
    kind: 'API',
    metadata: {
      name: api.metadata.name,
      title: spec.title,
      ...(spec.description !== undefined && { description: spec.description }),
      ...(tags.length > 0 && { tags: [...new Set(tags)] }),
      annotations: {
        'apigov.dev/api': api.metadata.name,
        // Backstage keeps versions out of its catalog: apigov's versions and their state per environment ride along
        'apigov.dev/versions': JSON.stringify(states),
        'apigov.dev/definition-version': shown.name,
        'apigov.dev/visibility': spec.visibility,
      },
      links: [{ url: `${options.baseUrl}/apis/${encodeURIComponent(api.metadata.name)}`, title: 'apigov portal', icon: 'dashboard' }],
    },
    spec: {
      type: 'openapi',
      lifecycle: lifecycleOf(newest),
      owner: `group:${spec.owner}`,
      system,
      definition: { $text: `${options.baseUrl}/v1/apis/${encodeURIComponent(api.metadata.name)}/versions/${shown.name}/openapi` },
    },
  };
}

/** The scaffolder Template of Alex's golden path: a form that registers an API with apigov through Backstage's proxy. */
function registerTemplate(options: ExportOptions): Entity {
  return {
    apiVersion: 'scaffolder.backstage.io/v1beta3',
    kind: 'Template',
    metadata: {
      name: 'apigov-register-api',
      title: 'Register an API with apigov',
      description: "Registers an API (or a new version of it) from its OpenAPI document; apigov's governance gate runs when it is published.",
      tags: ['apigov', 'api', 'openapi'],
      annotations: { 'apigov.dev/control-plane': options.baseUrl },
    },
    spec: {
      owner: 'group:platform',
      type: 'api',
      lifecycle: 'production',
      parameters: [
        {
          title: 'The API',
          required: ['name', 'team', 'definition'],
          properties: {
            name: { title: 'Name', type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$', description: 'lowercase letters, digits and dashes' },
            team: { title: 'Owner team', type: 'string', description: 'the apigov team that owns it' },
            version: { title: 'Version', type: 'string', description: "a major version such as 1 or v2 (default: the major of the document's info.version)" },
            definition: { title: 'OpenAPI document', type: 'string', 'ui:widget': 'textarea', description: 'the OpenAPI 2.0, 3.0 or 3.1 document (YAML or JSON)' },
            upstream: { title: 'Upstream URL in dev', type: 'string', description: 'where the dev gateway sends requests' },
          },
        },
      ],
      steps: [
        {
          id: 'register',
          name: 'Register with apigov',
          // the http:backstage:request action (@roadiehq/scaffolder-backend-module-http-request) through a proxy
          // endpoint `/apigov` that adds an apigov token
          action: 'http:backstage:request',
          input: {
            method: 'POST',
            path: '/proxy/apigov/v1/apis/register',
            headers: { 'content-type': 'application/json' },
            body: {
              name: '${{ parameters.name }}',
              team: '${{ parameters.team }}',
              version: '${{ parameters.version }}',
              spec: '${{ parameters.definition }}',
              upstreams: { dev: '${{ parameters.upstream }}' },
            },
          },
        },
      ],
      output: { links: [{ title: 'Open it in apigov', url: `${options.baseUrl}/apis/\${{ parameters.name }}` }] },
    },
  };
}

export function exportBackstage(resources: readonly AnyResource[], options: ExportOptions): ExportResult {
  const warnings: ExportWarning[] = [];
  const documents: Entity[] = [];
  const users = ofKind(resources, 'User');
  for (const team of ofKind(resources, 'Team')) {
    const name = team.metadata.name;
    documents.push({
      apiVersion: BACKSTAGE,
      kind: 'Group',
      metadata: { name, ...(team.spec.description !== undefined && { description: team.spec.description }) },
      spec: {
        type: 'team',
        profile: { displayName: team.spec.displayName ?? name, ...(team.spec.contact?.email !== undefined && { email: team.spec.contact.email }) },
        children: [],
        members: users.filter((u) => u.spec.team === name).map((u) => u.metadata.name),
      },
    });
    documents.push({ apiVersion: BACKSTAGE, kind: 'System', metadata: { name, description: `APIs of team ${team.spec.displayName ?? name}` }, spec: { owner: `group:${name}` } });
  }
  // systems named by a label, beyond the teams'
  const teamNames = new Set(ofKind(resources, 'Team').map((t) => t.metadata.name));
  const labelled = new Map<string, string>();
  for (const api of ofKind(resources, 'Api')) {
    const s = api.metadata.labels?.['apigov.dev/system'];
    if (s !== undefined && !teamNames.has(s) && !labelled.has(s)) labelled.set(s, api.spec.owner);
  }
  for (const [name, owner] of [...labelled].sort()) documents.push({ apiVersion: BACKSTAGE, kind: 'System', metadata: { name }, spec: { owner: `group:${owner}` } });
  for (const u of users) {
    documents.push({
      apiVersion: BACKSTAGE,
      kind: 'User',
      metadata: { name: u.metadata.name },
      spec: { profile: { displayName: u.spec.displayName ?? u.metadata.name, ...(u.spec.email !== undefined && { email: u.spec.email }) }, memberOf: u.spec.team === undefined ? [] : [u.spec.team] },
    });
  }
  for (const api of ofKind(resources, 'Api')) documents.push(apiEntity(api, options, warnings));
  const subscriptions = ofKind(resources, 'Subscription');
  for (const app of ofKind(resources, 'Application')) {
    const consumes = [...new Set(subscriptions.filter((s) => s.spec.application === app.metadata.name && s.spec.state === 'approved').map((s) => `api:${s.spec.api}`))].sort();
    documents.push({
      apiVersion: BACKSTAGE,
      kind: 'Component',
      metadata: { name: app.metadata.name, ...(app.spec.displayName !== undefined && { title: app.spec.displayName }), ...(app.spec.description !== undefined && { description: app.spec.description }), annotations: { 'apigov.dev/application': app.metadata.name } },
      spec: { type: 'service', lifecycle: 'production', owner: `group:${app.spec.owner}`, ...(consumes.length > 0 && { consumesApis: consumes }) },
    });
  }
  documents.push(registerTemplate(options));
  return { documents, warnings };
}
