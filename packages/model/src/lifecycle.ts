// The lifecycle state machine of an API version in one environment (draft → published → deprecated → retired), and
// the header fields a deprecated version answers with (what the gateway adds and the Envoy export sets).

export const LIFECYCLE_STATES = ['draft', 'published', 'deprecated', 'retired'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

const allowed: Record<LifecycleState, readonly LifecycleState[]> = {
  draft: ['published'],
  published: ['deprecated', 'retired'],
  // un-deprecating is allowed (a sunset can be called off); retiring is final
  deprecated: ['published', 'retired'],
  retired: [],
};

/** Whether a version may move from `from` to `to` in one environment (staying put is always allowed). */
export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return from === to || allowed[from].includes(to);
}

export function allowedTransitions(from: LifecycleState): readonly LifecycleState[] {
  return allowed[from];
}

/** A version is served by the gateway in an environment while published or deprecated. */
export function isServed(state: LifecycleState): boolean {
  return state === 'published' || state === 'deprecated';
}

/** What lifecycleHeaders reads of a snapshot route. */
export interface LifecycleOfRoute {
  state: string;
  deprecation?: { deprecatedAt?: string; sunset?: string; successorPrefix?: string };
}

/** RFC 9745 Deprecation `@<unix seconds>`, RFC 8594 Sunset (an HTTP-date), RFC 8288 Link to the successor: flat [name, value, …]. */
export function lifecycleHeaders(route: LifecycleOfRoute): string[] {
  const d = route.deprecation;
  if (route.state !== 'deprecated' && d === undefined) return [];
  const out: string[] = [];
  // the control plane records when a version was deprecated; versions deprecated before it did show the epoch
  const at = d?.deprecatedAt;
  const atMs = at === undefined ? NaN : Date.parse(at);
  out.push('deprecation', `@${Number.isNaN(atMs) ? 0 : Math.floor(atMs / 1000)}`);
  if (d?.sunset !== undefined) {
    const ms = Date.parse(d.sunset);
    if (!Number.isNaN(ms)) out.push('sunset', new Date(ms).toUTCString());
  }
  if (d?.successorPrefix !== undefined) out.push('link', `<${d.successorPrefix}>; rel="successor-version"`);
  return out;
}
