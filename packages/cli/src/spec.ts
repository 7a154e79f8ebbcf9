// The CLI's use of @apigov/openapi (loadSpec, lintSpec, diffOpenApi, changelogs), imported on first use so that
// commands which do not touch OpenAPI documents start without loading the linter.
import type { changelogHtml, changelogMarkdown, changelogOf, diffOpenApi, summarizeChanges, LintOptions, LoadedSpec, lintSpec, loadSpec } from '@apigov/openapi';

export type { LoadedSpec };
export type RuleSeverity = NonNullable<LintOptions['ruleOverrides']>[string];

export interface SpecLibrary {
  loadSpec: typeof loadSpec;
  lintSpec: typeof lintSpec;
  diffOpenApi: typeof diffOpenApi;
  changelogOf: typeof changelogOf;
  changelogMarkdown: typeof changelogMarkdown;
  changelogHtml: typeof changelogHtml;
  summarizeChanges: typeof summarizeChanges;
}

let library: Promise<SpecLibrary> | undefined;

export function specLibrary(): Promise<SpecLibrary> {
  library ??= import('@apigov/openapi').then((m) => ({
    loadSpec: m.loadSpec,
    lintSpec: m.lintSpec,
    diffOpenApi: m.diffOpenApi,
    changelogOf: m.changelogOf,
    changelogMarkdown: m.changelogMarkdown,
    changelogHtml: m.changelogHtml,
    summarizeChanges: m.summarizeChanges,
  }));
  return library;
}
