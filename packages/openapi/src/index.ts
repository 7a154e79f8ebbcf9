// Public surface of @apigov/openapi: load and bundle OpenAPI documents, lint them (spectral:oas + apigov:house), diff them
// (the breaking-change engine and changelogs), list operations, extract what request validation needs.
export type { OpenApiDocument, SpecFormat, Severity } from './types.js';
export { loadSpec, DEFAULT_MAX_SPEC_BYTES, type SpecSource, type LoadedSpec, type LoadOptions } from './load.js';
export { lintSpec, lintRuleNames, type LintFinding, type LintOptions, type LintInput } from './lint.js';
export { lintSpecOffThread, stopLintThread } from './lint-thread.js';
export { houseRules, type HouseRule } from './house-rules.js';
export { listOperations, type OperationSummary } from './operations.js';
export { majorOf } from './version.js';
export { diffOpenApi, type Change, type DiffOptions } from './diff/diff.js';
export { pathShape } from './diff/operations-view.js';
export { RULES as DIFF_RULES, CHANGE_LEVELS, type ChangeLevel, type Rule as DiffRule } from './diff/rules.js';
export { extractOperations } from './snapshot-operations.js';
export { affectedConsumersText, changeTextInOperation, changelogOf, changelogMarkdown, changelogHtml, summarizeChanges, type Changelog, type ChangelogChange, type ChangelogConsumer, type ChangelogGroup } from './diff/changelog.js';
export { officialSchemaViolations, type SchemaViolation } from './official-schema.js';
export { detectFormat } from './detect.js';
