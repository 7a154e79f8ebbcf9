// The CLI's use of @apigov/openapi (loadSpec, lintSpec), imported on first use so that commands which
// do not touch OpenAPI documents start without loading the linter.
import type { LintOptions, LoadedSpec, lintSpec, loadSpec } from '@apigov/openapi';

export type { LoadedSpec };
export type RuleSeverity = NonNullable<LintOptions['ruleOverrides']>[string];

export interface SpecLibrary {
  loadSpec: typeof loadSpec;
  lintSpec: typeof lintSpec;
}

let library: Promise<SpecLibrary> | undefined;

export function specLibrary(): Promise<SpecLibrary> {
  library ??= import('@apigov/openapi').then((m) => ({ loadSpec: m.loadSpec, lintSpec: m.lintSpec }));
  return library;
}
