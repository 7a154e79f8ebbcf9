// The sunset clock, the deprecation loop's part that time drives: 30, 7 and 1 days before a deprecated version's
// sunset it raises api.version.sunset-approaching for the owners and every subscribed team (once per threshold);
// at the sunset, an API with retireAtSunset retires the version (api.version.retired, the gateway answers 410).
import { parseResource } from '@apigov/model';
import type { Store } from '@apigov/store';
import { subscribersOf } from '../events/derive.js';
import { writeResource, type WriteContext } from './writes.js';
import { systemPrincipal } from '../auth.js';

const SYSTEM = systemPrincipal('system:clock');
const DAY = 86_400_000;
export const SUNSET_REMINDERS = [30, 7, 1] as const;

export async function runSunsetClock(store: Store, now = Date.now()): Promise<number> {
  return store.transaction(async (tx) => {
    const ctx: WriteContext = { tx, principal: SYSTEM, requestId: `clock-${now}` };
    // which reminders went out already: the events say
    const sent = new Set((await tx.listEvents({ types: ['api.version.sunset-approaching'], limit: 100_000 })).map((e) => `${e.subject.name}/${e.subject.version}/${e.subject.environment}/${String(e.data.threshold)}`));
    let changed = 0;
    for (const stored of await tx.list('Api', { limit: 100_000 })) {
      if (stored.resource.kind !== 'Api') continue;
      const api = stored.resource;
      let retire = false;
      const versions = api.spec.versions.map((v) => ({ ...v, environments: { ...v.environments } }));
      for (const v of versions) {
        for (const [env, e] of Object.entries(v.environments)) {
          if (e.state !== 'deprecated' || e.sunset === undefined) continue;
          const left = Date.parse(e.sunset) - now;
          if (left <= 0) {
            if (api.spec.retireAtSunset === true) {
              v.environments[env] = { ...e, state: 'retired' };
              retire = true;
            }
            continue;
          }
          const daysLeft = Math.ceil(left / DAY);
          const threshold = [...SUNSET_REMINDERS].reverse().find((t) => daysLeft <= t);
          if (threshold === undefined || sent.has(`${api.metadata.name}/${v.name}/${env}/${threshold}`)) continue;
          const teams = [api.spec.owner, ...(await subscribersOf(tx, api.metadata.name, v.name, env)).flatMap((s) => (s.team === undefined ? [] : [s.team]))];
          await tx.emit({
            type: 'api.version.sunset-approaching',
            actor: SYSTEM.name,
            subject: { kind: 'Api', name: api.metadata.name, version: v.name, environment: env },
            teams: [...new Set(teams)],
            public: api.spec.visibility !== 'team-only',
            data: { api: api.metadata.name, version: v.name, environment: env, owner: api.spec.owner, sunset: e.sunset, ...(e.successor !== undefined && { successor: e.successor }), daysLeft, threshold },
          });
          changed++;
        }
      }
      if (retire) {
        await writeResource(ctx, parseResource({ ...api, spec: { ...api.spec, versions } }), { action: 'clock.retire-at-sunset' });
        changed++;
      }
    }
    return changed;
  });
}
