// What every exporter takes and gives: the resources the caller may see, and documents for the target plus warnings
// for what the target cannot express (never dropped silently).
import type { AnyResource } from '@apigov/model';

export interface ExportWarning {
  /** `Api/payments`, `Policy/payments-limits` */
  resource: string;
  /** the policy kind or field that could not be carried over */
  what: string;
  message: string;
}

export interface ExportResult {
  documents: Array<Record<string, unknown>>;
  warnings: ExportWarning[];
}

export interface ExportOptions {
  /** the control plane's public URL (documents link back to it) */
  baseUrl: string;
}

/** The resources of one kind, by name order (exports are stable: same input, same output). */
export function ofKind<K extends AnyResource['kind']>(resources: readonly AnyResource[], kind: K): Array<Extract<AnyResource, { kind: K }>> {
  return resources.filter((r): r is Extract<AnyResource, { kind: K }> => r.kind === kind).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
