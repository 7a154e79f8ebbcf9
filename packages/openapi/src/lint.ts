// lintSpec: runs Spectral with `spectral:oas` (recommended rules) plus `apigov:house` over a text or a document,
// with per-call severity overrides; Spectral instances are built once per distinct override set.
import { createRequire } from 'node:module';
import { ApigovError } from '@apigov/model';
import { Document, Spectral, type IConstructorOpts, type ISpectralDiagnostic, type RulesetDefinition } from '@stoplight/spectral-core';
import spectralParsers from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { houseRules, houseRuleset } from './house-rules.js';
import { formatPathIn, isRecord } from './json-path.js';
import type { OpenApiDocument, Severity } from './types.js';

export interface LintFinding {
  rule: string;
  severity: Severity;
  message: string;
  /** Dotted path, e.g. `paths./payments.get.summary`; `(root)` for the document itself. */
  path: string;
  /** 1-based, in the text that was linted. */
  line?: number;
  column?: number;
}

export interface LintOptions {
  /** Rule name (spectral:oas or apigov-*) -> new severity, or 'off'. */
  ruleOverrides?: Record<string, Severity | 'off'>;
}

export type LintInput = { text: string } | { document: OpenApiDocument };

const SEVERITIES: readonly Severity[] = ['error', 'warn', 'info', 'hint'];
const OVERRIDE_VALUES = new Set<string>([...SEVERITIES, 'off']);

/** Names of every rule lintSpec knows: the spectral:oas rules and the apigov house rules. */
export const lintRuleNames: ReadonlySet<string> = new Set([
  ...Object.keys((oas as { rules?: Record<string, unknown> }).rules ?? {}),
  ...houseRules.map((r) => r.name),
]);

type SpectralResolver = NonNullable<IConstructorOpts['resolver']>;

/**
 * A $ref resolver with no readers: Spectral must never fetch URLs or read local files while linting
 * user input, so any non-internal $ref is reported as `invalid-ref` instead of being followed.
 */
function offlineResolver(): SpectralResolver {
  const requireHere = createRequire(import.meta.url);
  const requireFromCore = createRequire(requireHere.resolve('@stoplight/spectral-core'));
  const { Resolver } = requireFromCore('@stoplight/spectral-ref-resolver') as {
    Resolver: new (opts: { resolvers: Record<string, never> }) => SpectralResolver;
  };
  return new Resolver({ resolvers: {} });
}

/**
 * Spectral needs a source name to map findings reached through a $ref back to where the value is
 * written (without one it reports the same problem twice); nothing is read from it.
 */
const VIRTUAL_SOURCE = '/apigov/openapi';

const instances = new Map<string, Spectral>();

function spectralFor(overrides: Record<string, Severity | 'off'>): Spectral {
  const entries = Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b));
  for (const [name, value] of entries) {
    if (!lintRuleNames.has(name)) {
      throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `unknown lint rule '${name}' in ruleOverrides`, {
        errors: [{ path: `ruleOverrides.${name}`, message: 'not a spectral:oas or apigov house rule' }],
      });
    }
    if (!OVERRIDE_VALUES.has(value)) {
      throw new ApigovError('APIGOV_ERR_INPUT_INVALID', `invalid severity '${String(value)}' for lint rule '${name}'`, {
        errors: [{ path: `ruleOverrides.${name}`, message: "must be one of 'error', 'warn', 'info', 'hint', 'off'" }],
      });
    }
  }
  const key = JSON.stringify(entries);
  let spectral = instances.get(key);
  if (!spectral) {
    spectral = new Spectral({ resolver: offlineResolver() });
    const ruleset: RulesetDefinition = {
      extends: [[oas as RulesetDefinition, 'recommended'], houseRuleset],
      rules: Object.fromEntries(entries),
    };
    spectral.setRuleset(ruleset);
    instances.set(key, spectral);
  }
  return spectral;
}

function toFinding(d: ISpectralDiagnostic, data: unknown): LintFinding {
  const finding: LintFinding = {
    rule: String(d.code),
    severity: SEVERITIES[d.severity] ?? 'hint',
    message: d.message,
    path: formatPathIn(data, d.path),
  };
  if (d.range) {
    finding.line = d.range.start.line + 1;
    finding.column = d.range.start.character + 1;
  }
  return finding;
}

function compareFindings(a: LintFinding, b: LintFinding): number {
  return (
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0) ||
    a.rule.localeCompare(b.rule) ||
    a.path.localeCompare(b.path)
  );
}

/**
 * Lints an OpenAPI text (JSON or YAML) or a parsed document (linted as `JSON.stringify(document, null, 2)`,
 * so lines refer to that text). Findings come sorted by severity, then line.
 */
export async function lintSpec(input: LintInput, options: LintOptions = {}): Promise<LintFinding[]> {
  let text: string;
  if (isRecord(input) && typeof (input as { text?: unknown }).text === 'string') {
    text = (input as { text: string }).text;
  } else if (isRecord(input) && isRecord((input as { document?: unknown }).document)) {
    try {
      text = JSON.stringify((input as { document: OpenApiDocument }).document, null, 2);
    } catch (e) {
      throw new ApigovError('APIGOV_ERR_SPEC_INVALID', `the document cannot be serialised to JSON: ${e instanceof Error ? e.message : String(e)}`, {
        errors: [{ path: '(root)', message: 'not JSON-serialisable (circular object references?)' }],
        cause: e,
      });
    }
  } else {
    throw new ApigovError('APIGOV_ERR_INPUT_INVALID', "lintSpec needs { text } or { document }", {
      errors: [{ path: '(root)', message: "expected 'text' (string) or 'document' (object)" }],
    });
  }
  const spectral = spectralFor(options.ruleOverrides ?? {});
  const trimmed = text.trimStart();
  const document =
    trimmed.startsWith('{') || trimmed.startsWith('[')
      ? new Document(text, spectralParsers.Json, VIRTUAL_SOURCE)
      : new Document(text, spectralParsers.Yaml, VIRTUAL_SOURCE);
  const diagnostics = await spectral.run(document);
  return diagnostics.map((d) => toFinding(d, document.data)).sort(compareFindings);
}
