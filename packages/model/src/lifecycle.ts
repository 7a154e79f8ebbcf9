// The lifecycle state machine of an API version in one environment: draft → published → deprecated → retired.

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
