// majorOf: the major number of an API version string ('1.2.3' -> 1, 'v2' -> 2), used to tell breaking releases apart.

/** '1.2.3' -> 1, 'v2' -> 2, '2' -> 2, '2.0.0-beta.1' -> 2; anything without a leading number -> undefined. */
export function majorOf(version: string): number | undefined {
  if (typeof version !== 'string') return undefined;
  const m = /^\s*v?(\d+)(?:[.\-+_]\S*)?\s*$/i.exec(version);
  if (!m) return undefined;
  const major = Number(m[1]);
  return Number.isSafeInteger(major) ? major : undefined;
}
