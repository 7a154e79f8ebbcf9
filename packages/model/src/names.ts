// Naming rules shared by every resource: metadata names, version keys and environment names.

/** DNS-label style: lowercase letters, digits and '-', 1..63 chars, no leading/trailing '-'. Rules out '/', '..' and spaces. */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const NAME_RULE = "lowercase letters, digits and '-' (1-63 characters, starting and ending with a letter or digit)";

/** A version key is `v<major>`, e.g. `v1`. Users may say `1`, `v1` or `1.4.2`; see `versionKey`. */
export const VERSION_KEY_PATTERN = /^v(0|[1-9][0-9]{0,5})$/;

/** Normalises what a user calls a version (`1`, `v1`, `1.4.2`, `V2`) to its key (`v1`); undefined when it names no major. */
export function versionKey(input: string): string | undefined {
  const m = /^[vV]?(0|[1-9][0-9]{0,5})(?:[.\-+].*)?$/.exec(input.trim());
  return m ? `v${m[1]}` : undefined;
}

/** The major number of a version key (`v2` → 2). */
export function majorOfKey(key: string): number {
  return Number(key.slice(1));
}

/** The default route prefix an API version is served under: `/{name}/v{major}`. */
export function defaultRoutePrefix(apiName: string, key: string): string {
  return `/${apiName}/${key}`;
}
