// The audit log over REST: newest-first listing with filters, and verification of the hash chain (optionally
// against an anchor kept outside apigov).
import type { FastifyInstance } from 'fastify';
import { ApigovError, parseAuditAnchor } from '@apigov/model';
import type { AuditAnchor } from '@apigov/store';
import { pageLimit, query, type Deps } from '../http.js';
import { assertAdmin } from '../rbac.js';
import { assertSteppedUp } from '../step-up.js';

export function registerAuditRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/v1/audit', async (request) => {
    assertAdmin(request.principal, 'read the audit log');
    await assertSteppedUp(deps.store, request.principal, 'audit-export');
    const q = query(request);
    const limit = pageLimit(q.limit, 50);
    const raw = q.before ?? q.cursor;
    const before = raw === undefined ? undefined : Number(raw);
    if (before !== undefined && (!Number.isInteger(before) || before < 1)) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'before must be a sequence number', { errors: [{ path: 'before', message: 'must be a positive integer' }] });
    const items = await deps.store.listAudit({ limit, beforeSeq: before, actor: q.actor, kind: q.kind, name: q.name, action: q.action });
    const last = items[items.length - 1];
    return { items, ...(items.length === limit && last && last.seq > 1 && { nextCursor: String(last.seq) }) };
  });

  app.get('/v1/audit/verify', async (request) => {
    assertAdmin(request.principal, 'verify the audit log');
    const raw = query(request).anchor;
    return deps.store.verifyAudit(raw === undefined ? undefined : parseAnchor(raw));
  });
}

/** `SEQ:HASH`, as `apigov audit verify` prints the chain's head */
function parseAnchor(raw: string): AuditAnchor {
  const anchor = parseAuditAnchor(raw);
  if (anchor === undefined) throw new ApigovError('APIGOV_ERR_INPUT_INVALID', 'anchor must be SEQ:HASH (a sequence number and a 64-character sha256 hex hash)', { errors: [{ path: 'anchor', message: 'must be SEQ:HASH' }] });
  return anchor;
}
