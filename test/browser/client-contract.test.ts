// The portal's API client calls only operations the control plane describes in /v1/openapi.json.
import { describe, expect, it } from 'vitest';
import { controlPlaneOpenApi } from '@apigov/control-plane';
import { CLIENT_OPERATIONS } from '../../packages/portal/src/operations.js';

describe('portal API client', () => {
  it('every operation it calls is in the control plane OpenAPI document', () => {
    const doc = controlPlaneOpenApi() as { paths: Record<string, Record<string, unknown>> };
    // the document names path parameters its own way ({kind}, {app}…): compare the shapes
    const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
    const described = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${shape(path)}`)));
    const missing = CLIENT_OPERATIONS.filter((op) => {
      const [method, path] = op.split(' ');
      const concrete = `${method} ${shape(path)}`;
      // /v1/teams and friends are served by the generic /v1/{kind} routes
      const generic = `${method} ${shape(path.replace(/^\/v1\/(teams|environments|plans|policies|apis|applications)(?=\/|$)/, '/v1/{kind}'))}`;
      return !described.has(concrete) && !described.has(generic);
    });
    expect(missing).toEqual([]);
  });
});
