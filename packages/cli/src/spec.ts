// The CLI's view of @apigov/spec (loadSpec, lintSpec), imported on first use so that commands which
// do not touch OpenAPI documents start without loading the linter.
import type { Finding, SpecBundle } from './api.js';
import { CliError } from './errors.js';

export interface LoadedSpec {
  document: Record<string, unknown>;
  format: string;
  title: string;
  version: string;
  text: string;
}

export type RuleSeverity = 'error' | 'warn' | 'info' | 'hint' | 'off';

export interface SpecLibrary {
  loadSpec(source: string | SpecBundle, options?: Record<string, unknown>): Promise<LoadedSpec>;
  lintSpec(input: { text: string } | { document: unknown }, options?: { ruleOverrides?: Record<string, RuleSeverity> }): Promise<Finding[]>;
}

let library: Promise<SpecLibrary> | undefined;

export function specLibrary(): Promise<SpecLibrary> {
  library ??= import('@apigov/spec').then((m) => {
    const lib = m as unknown as Partial<SpecLibrary>;
    if (typeof lib.loadSpec !== 'function' || typeof lib.lintSpec !== 'function') {
      throw new CliError('APIGOV_ERR_INTERNAL', '@apigov/spec does not provide loadSpec and lintSpec (is it built?)');
    }
    return lib as SpecLibrary;
  });
  return library;
}
