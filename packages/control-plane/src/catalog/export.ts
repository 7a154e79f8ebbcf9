// Export: every resource the caller may see, in dependency order, as the same documents apply accepts,
// so `export | apply` changes nothing.
import { stringify } from 'yaml';
import { KINDS, desiredState, type Kind, type Resource } from '@apigov/model';
import type { Store } from '@apigov/store';
import type { Principal } from '../auth.js';
import { sees } from '../visibility.js';

export async function exportResources(store: Store, principal: Principal, kinds: readonly Kind[] = KINDS): Promise<Resource[]> {
  const out: Resource[] = [];
  for (const kind of KINDS.filter((k) => kinds.includes(k))) {
    let after: string | undefined;
    for (;;) {
      const page = await store.list(kind, { after, limit: 500 });
      for (const s of page) if (await sees(store, principal, s.resource)) out.push(desiredState(s.resource));
      if (page.length < 500) break;
      after = page[page.length - 1].resource.metadata.name;
    }
  }
  return out;
}

export function toYamlStream(resources: readonly unknown[]): string {
  return resources.map((r) => stringify(r, { aliasDuplicateObjects: false, lineWidth: 0 })).map((s) => `---\n${s}`).join('');
}
