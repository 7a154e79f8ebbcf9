// SCIM 2.0 at /scim/v2 for an identity provider's provisioning client (a platform admin's token with the scim
// scopes): Users and Groups with filtering, pagination and PATCH; groups map to teams through the identity
// providers' groupMappings, and deactivating a user ends every session and token of theirs in the same transaction.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSION, parseResource, type GroupMapping, type MemberRole, type UserSpec } from '@apigov/model';
import type { IdentityGroup, StoredResource, StoreTx } from '@apigov/store';
import { inTransaction, query, type Deps } from '../http.js';
import { accessFromGroups, userNameFor } from '../identity/accounts.js';
import {
  bad,
  listResponse,
  matches,
  memberIds,
  pageParams,
  parseFilter,
  patchOperations,
  patchUser,
  SCIM_ENTERPRISE,
  SCIM_GROUP,
  SCIM_USER,
  ScimError,
  scimErrorBody,
  scimGroup,
  scimUser,
  userFieldsFrom,
  type ScimUserFields,
} from '../identity/scim.js';
import { assertAdmin } from '../rbac.js';
import { deleteResource, writeResource, type WriteContext } from '../catalog/writes.js';

const TYPE = 'application/scim+json';

function baseOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}/scim/v2`;
}

/** Every identity provider's group mappings, in provider-name order: what SCIM groups map through. */
async function mappings(tx: Pick<StoreTx, 'list'>): Promise<{ groupMappings: GroupMapping[]; defaultRole: MemberRole; defaultTeam?: string }> {
  const idps = (await tx.list('IdentityProvider', { limit: 100 })).flatMap((s) => (s.resource.kind === 'IdentityProvider' ? [s.resource.spec] : []));
  const first = idps[0];
  return { groupMappings: idps.flatMap((s) => s.groupMappings), defaultRole: first?.defaultRole ?? 'consumer', ...(first?.defaultTeam !== undefined && { defaultTeam: first.defaultTeam }) };
}

function fieldsOf(spec: UserSpec): ScimUserFields {
  return {
    ...(spec.userName !== undefined && { userName: spec.userName }),
    ...(spec.externalId !== undefined && { externalId: spec.externalId }),
    ...(spec.displayName !== undefined && { displayName: spec.displayName }),
    ...(spec.email !== undefined && { email: spec.email }),
    active: spec.active !== false,
  };
}

async function users(tx: Pick<StoreTx, 'list'>): Promise<StoredResource[]> {
  return (await tx.list('User', { limit: 100_000 })).filter((s) => s.resource.kind === 'User');
}

async function getUser(tx: Pick<StoreTx, 'get'>, id: string): Promise<StoredResource & { resource: { kind: 'User'; spec: UserSpec } }> {
  const s = await tx.get('User', id);
  if (s?.resource.kind !== 'User') throw new ScimError(404, undefined, `User ${id} not found`);
  return s as StoredResource & { resource: { kind: 'User'; spec: UserSpec } };
}

/**
 * Writes a user from SCIM fields and groups: role and teams derived from the groups, and on deactivation every
 * session and token of theirs deleted in the same transaction.
 */
async function saveUser(ctx: WriteContext, name: string, fields: ScimUserFields, groups: readonly string[], current: UserSpec | undefined, action: string): Promise<StoredResource> {
  const access = await accessFromGroups(ctx.tx, await mappings(ctx.tx), groups);
  if (fields.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(fields.email)) throw bad('invalidValue', `emails: '${fields.email}' is not an e-mail address`);
  const spec: UserSpec = {
    ...access.spec,
    ...(fields.displayName !== undefined && { displayName: fields.displayName }),
    ...(fields.email !== undefined && { email: fields.email }),
    ...(fields.active === false && { active: false }),
    ...(current?.identity !== undefined && { identity: current.identity }),
    ...(fields.externalId !== undefined && { externalId: fields.externalId }),
    ...(fields.userName !== undefined && { userName: fields.userName }),
    ...(groups.length > 0 && { groups: [...new Set(groups)] }),
  };
  const { stored } = await writeResource(ctx, parseResource({ apiVersion: API_VERSION, kind: 'User', metadata: { name }, spec }), { action });
  if (spec.active === false && current?.active !== false) {
    const ended = await ctx.tx.deleteTokensOf(name);
    await ctx.tx.audit({ actor: ctx.principal.name, action: 'scim.user.deactivate', kind: 'User', name, before: null, after: { sessionsAndTokensEnded: ended }, requestId: ctx.requestId });
  }
  return stored;
}

async function groupMap(tx: StoreTx): Promise<Map<string, IdentityGroup>> {
  return new Map((await tx.listGroups()).map((g) => [g.displayName, g]));
}

async function membersOf(tx: StoreTx, group: IdentityGroup): Promise<Array<{ id: string; display?: string }>> {
  return (await users(tx)).flatMap((s) =>
    s.resource.kind === 'User' && (s.resource.spec.groups ?? []).includes(group.displayName) ? [{ id: s.resource.metadata.name, ...(s.resource.spec.displayName !== undefined && { display: s.resource.spec.displayName }) }] : [],
  );
}

/** Sets who is in `group` (by user id), rewriting the groups (and so the teams) of everyone who joins or leaves. */
async function setMembers(ctx: WriteContext, group: string, want: ReadonlySet<string>, renamedFrom?: string): Promise<void> {
  for (const id of want) await getUser(ctx.tx, id).catch(() => Promise.reject(bad('invalidValue', `members: no user ${id}`)));
  for (const s of await users(ctx.tx)) {
    if (s.resource.kind !== 'User') continue;
    const spec = s.resource.spec;
    const had = (spec.groups ?? []).filter((g) => g !== group && g !== renamedFrom);
    const inIt = want.has(s.resource.metadata.name);
    const next = inIt ? [...had, group] : had;
    const before = spec.groups ?? [];
    if (next.length === before.length && next.every((g) => before.includes(g))) continue;
    await saveUser(ctx, s.resource.metadata.name, fieldsOf(spec), next, spec, 'scim.user.groups');
  }
}

export function registerScimRoutes(app: FastifyInstance, deps: Deps): void {
  // application/scim+json is JSON (the SCIM clients' media type)
  app.addContentTypeParser(TYPE, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(String(body)));
    } catch {
      done(bad('invalidSyntax', 'the body is not JSON'), undefined);
    }
  });
  const common = {
    // errors are SCIM Error documents here, not problem+json
    errorHandler: (err: unknown, _request: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = scimErrorBody(err);
      return reply.code(status).type(TYPE).send(body);
    },
    preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
      assertAdmin(request.principal, 'provision users over SCIM');
      reply.type(TYPE);
    },
  };
  type Handler<P> = (request: FastifyRequest<{ Params: P }>, reply: FastifyReply) => Promise<unknown>;
  const route =
    (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE') =>
    <P = Record<string, never>>(path: string, handler: Handler<P>) =>
      app.route<{ Params: P }>({ method, url: `/scim/v2${path}`, ...common, handler });
  const scim = { get: route('GET'), post: route('POST'), put: route('PUT'), patch: route('PATCH'), delete: route('DELETE') };
  {
    {
      scim.get('/ServiceProviderConfig', async () => ({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        documentationUri: 'https://github.com/apigov/apigov#scim-provisioning',
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: 1000 },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
        authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer token', description: "A platform admin's token with the scim:read and scim:write scopes (apigov tokens create)", primary: true }],
      }));

      scim.get('/ResourceTypes', async () => ({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: 2,
        Resources: [
          { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'], id: 'User', name: 'User', endpoint: '/Users', schema: SCIM_USER, schemaExtensions: [{ schema: SCIM_ENTERPRISE, required: false }] },
          { schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'], id: 'Group', name: 'Group', endpoint: '/Groups', schema: SCIM_GROUP },
        ],
      }));

      scim.get('/Schemas', async () => {
        const attr = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...extra });
        const resources = [
          {
            id: SCIM_USER,
            name: 'User',
            attributes: [
              attr('userName', 'string', { required: true, uniqueness: 'server' }),
              attr('displayName', 'string'),
              attr('name', 'complex', { subAttributes: [attr('formatted', 'string'), attr('givenName', 'string'), attr('familyName', 'string')] }),
              attr('emails', 'complex', { multiValued: true, subAttributes: [attr('value', 'string'), attr('type', 'string'), attr('primary', 'boolean')] }),
              attr('active', 'boolean'),
              attr('externalId', 'string', { caseExact: true }),
              attr('groups', 'complex', { multiValued: true, mutability: 'readOnly' }),
            ],
          },
          { id: SCIM_GROUP, name: 'Group', attributes: [attr('displayName', 'string', { required: true, uniqueness: 'server' }), attr('externalId', 'string', { caseExact: true }), attr('members', 'complex', { multiValued: true })] },
          { id: SCIM_ENTERPRISE, name: 'EnterpriseUser', attributes: [attr('employeeNumber', 'string'), attr('department', 'string'), attr('manager', 'complex')] },
        ];
        return { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: resources.length, Resources: resources.map((r) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'], ...r })) };
      });

      // ---- Users ----
      scim.get('/Users', async (request) => {
        const q = query(request);
        const filter = q.filter === undefined ? undefined : parseFilter(q.filter);
        const page = pageParams(q);
        return deps.store.transaction(async (tx) => {
          const groups = new Map([...(await groupMap(tx))]);
          const all = (await users(tx)).map((s) => scimUser(s, groups, baseOf(request)));
          return listResponse(filter === undefined ? all : all.filter((u) => matches(filter, u)), page);
        });
      });

      scim.get<{ id: string }>('/Users/:id', async (request) =>
        deps.store.transaction(async (tx) => scimUser(await getUser(tx, request.params.id), await groupMap(tx), baseOf(request))),
      );

      scim.post('/Users', async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const fields = userFieldsFrom(body);
        if (fields.userName === undefined) throw bad('invalidValue', 'userName is required');
        const name = userNameFor({ username: fields.userName, subject: fields.userName });
        const out = await inTransaction(deps, request, async (ctx) => {
          if (await ctx.tx.get('User', name)) throw new ScimError(409, 'uniqueness', `a user ${name} (userName ${fields.userName}) already exists`);
          const stored = await saveUser(ctx, name, fields, [], undefined, 'scim.user.create');
          return scimUser(stored, await groupMap(ctx.tx), baseOf(request));
        });
        return reply.code(201).header('location', `${baseOf(request)}/Users/${name}`).send(out);
      });

      scim.put<{ id: string }>('/Users/:id', async (request) =>
        inTransaction(deps, request, async (ctx) => {
          const current = await getUser(ctx.tx, request.params.id);
          const fields = userFieldsFrom((request.body ?? {}) as Record<string, unknown>);
          const spec = current.resource.spec;
          const stored = await saveUser(ctx, request.params.id, { ...fields, active: fields.active ?? true, userName: fields.userName ?? spec.userName }, spec.groups ?? [], spec, 'scim.user.replace');
          return scimUser(stored, await groupMap(ctx.tx), baseOf(request));
        }),
      );

      scim.patch<{ id: string }>('/Users/:id', async (request) => {
        const ops = patchOperations(request.body);
        return inTransaction(deps, request, async (ctx) => {
          const current = await getUser(ctx.tx, request.params.id);
          const spec = current.resource.spec;
          const stored = await saveUser(ctx, request.params.id, patchUser(fieldsOf(spec), ops), spec.groups ?? [], spec, 'scim.user.patch');
          return scimUser(stored, await groupMap(ctx.tx), baseOf(request));
        });
      });

      scim.delete<{ id: string }>('/Users/:id', async (request, reply) => {
        await inTransaction(deps, request, async (ctx) => {
          await getUser(ctx.tx, request.params.id);
          await ctx.tx.deleteTokensOf(request.params.id);
          await deleteResource(ctx, 'User', request.params.id, { action: 'scim.user.delete' });
        });
        return reply.code(204).send();
      });

      // ---- Groups ----
      const groupById = async (tx: StoreTx, id: string) => {
        const g = await tx.getGroup(id);
        if (g === null) throw new ScimError(404, undefined, `Group ${id} not found`);
        return g;
      };
      const displayNameOf = (v: unknown) => {
        if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw bad('invalidValue', 'displayName must be a non-empty string of at most 256 characters');
        return v;
      };
      const auditGroup = (ctx: WriteContext, action: string, before: unknown, after: unknown, name: string) =>
        ctx.tx.audit({ actor: ctx.principal.name, action, kind: 'Group', name, before: before ?? null, after: after ?? null, requestId: ctx.requestId });

      scim.get('/Groups', async (request) => {
        const q = query(request);
        const filter = q.filter === undefined ? undefined : parseFilter(q.filter);
        const page = pageParams(q);
        const excludeMembers = (q.excludedAttributes ?? '').toLowerCase().split(',').includes('members');
        return deps.store.transaction(async (tx) => {
          const all = [];
          for (const g of await tx.listGroups()) {
            const rep = scimGroup(g, await membersOf(tx, g), baseOf(request));
            if (filter === undefined || matches(filter, rep)) all.push(excludeMembers ? { ...rep, members: undefined } : rep);
          }
          return listResponse(all, page);
        });
      });

      scim.get<{ id: string }>('/Groups/:id', async (request) =>
        deps.store.transaction(async (tx) => {
          const g = await groupById(tx, request.params.id);
          return scimGroup(g, await membersOf(tx, g), baseOf(request));
        }),
      );

      scim.post('/Groups', async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const displayName = displayNameOf(body.displayName);
        const members = new Set(memberIds({ op: 'add', value: body.members ?? [] }));
        const out = await inTransaction(deps, request, async (ctx) => {
          if ((await ctx.tx.listGroups()).some((g) => g.displayName === displayName)) throw new ScimError(409, 'uniqueness', `a group ${displayName} already exists`);
          const now = new Date().toISOString();
          const group: IdentityGroup = { id: randomUUID(), displayName, ...(typeof body.externalId === 'string' && { externalId: body.externalId }), createdAt: now, updatedAt: now };
          await ctx.tx.putGroup(group);
          await auditGroup(ctx, 'scim.group.create', null, { id: group.id, displayName, members: [...members] }, displayName);
          await setMembers(ctx, displayName, members);
          return scimGroup(group, await membersOf(ctx.tx, group), baseOf(request));
        });
        return reply.code(201).header('location', `${baseOf(request)}/Groups/${out.id as string}`).send(out);
      });


      scim.put<{ id: string }>('/Groups/:id', async (request) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const displayName = displayNameOf(body.displayName);
        const members = new Set(memberIds({ op: 'replace', value: body.members ?? [] }));
        return inTransaction(deps, request, async (ctx) => {
          const current = await groupById(ctx.tx, request.params.id);
          return applyGroup(ctx, request, current, displayName, typeof body.externalId === 'string' ? body.externalId : undefined, members, 'scim.group.replace');
        });
      });

      scim.patch<{ id: string }>('/Groups/:id', async (request, reply) => {
        const ops = patchOperations(request.body);
        const out = await inTransaction(deps, request, async (ctx) => {
          const current = await groupById(ctx.tx, request.params.id);
          let displayName = current.displayName;
          let externalId = current.externalId;
          const members = new Set((await membersOf(ctx.tx, current)).map((m) => m.id));
          for (const o of ops) {
            const path = o.path?.toLowerCase();
            if (path === undefined) {
              // Entra: {"op": "Replace", "value": {"id": "…", "displayName": "…"}}
              const v = (o.value ?? {}) as Record<string, unknown>;
              for (const [k, val] of Object.entries(v)) {
                if (k.toLowerCase() === 'displayname') displayName = displayNameOf(val);
                else if (k.toLowerCase() === 'externalid' && typeof val === 'string') externalId = val;
                else if (k.toLowerCase() === 'members') {
                  if (o.op === 'replace') members.clear();
                  for (const id of memberIds({ op: 'add', value: val })) members.add(id);
                }
              }
            } else if (path === 'displayname') {
              if (o.op === 'remove') throw bad('mutability', 'displayName cannot be removed');
              displayName = displayNameOf(o.value);
            } else if (path === 'externalid') {
              externalId = o.op === 'remove' ? undefined : typeof o.value === 'string' ? o.value : externalId;
            } else if (path === 'members' || path.startsWith('members[')) {
              const ids = memberIds(o);
              if (o.op === 'remove') {
                if (path === 'members' && o.value === undefined) members.clear();
                for (const id of ids) members.delete(id);
              } else {
                if (o.op === 'replace') members.clear();
                for (const id of ids) members.add(id);
              }
            } else {
              throw bad('invalidPath', `cannot ${o.op} ${o.path} on a Group`);
            }
          }
          return applyGroup(ctx, request, current, displayName, externalId, members, 'scim.group.patch');
        });
        return reply.send(out);
      });

      scim.delete<{ id: string }>('/Groups/:id', async (request, reply) => {
        await inTransaction(deps, request, async (ctx) => {
          const current = await groupById(ctx.tx, request.params.id);
          await setMembers(ctx, current.displayName, new Set(), current.displayName);
          await ctx.tx.deleteGroup(current.id);
          await auditGroup(ctx, 'scim.group.delete', { id: current.id, displayName: current.displayName }, null, current.displayName);
        });
        return reply.code(204).send();
      });
    }
  }
}

/** Writes a group's new name and members, and the groups (so the teams) of everyone it changes. */
async function applyGroup(ctx: WriteContext, request: FastifyRequest, current: IdentityGroup, displayName: string, externalId: string | undefined, members: Set<string>, action: string): Promise<Record<string, unknown>> {
  if (displayName !== current.displayName && (await ctx.tx.listGroups()).some((g) => g.displayName === displayName)) throw new ScimError(409, 'uniqueness', `a group ${displayName} already exists`);
  const before = { displayName: current.displayName, members: (await membersOf(ctx.tx, current)).map((m) => m.id) };
  const next: IdentityGroup = { id: current.id, displayName, ...(externalId !== undefined && { externalId }), createdAt: current.createdAt, updatedAt: new Date().toISOString() };
  await ctx.tx.putGroup(next);
  await setMembers(ctx, displayName, members, current.displayName);
  await ctx.tx.audit({ actor: ctx.principal.name, action, kind: 'Group', name: displayName, before, after: { displayName, members: [...members] }, requestId: ctx.requestId });
  return scimGroup(next, await membersOf(ctx.tx, next), baseOf(request));
}
