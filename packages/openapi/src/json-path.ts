// Small helpers for walking parsed JSON: record checks, JSON Pointer encoding/decoding,
// and the dotted location format (`paths./pets.get.responses.200`, `servers[0].url`) used in messages.

export type PathToken = string | number;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted location: object keys joined by `.`, array indexes as `[n]`; the root is `(root)`. */
export function formatPath(tokens: readonly PathToken[]): string {
  let out = '';
  for (const token of tokens) {
    if (typeof token === 'number') out += `[${token}]`;
    else out += out === '' ? token : `.${token}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Like formatPath, for paths whose array indexes may come as strings (Spectral's): a token is shown
 * as `[n]` when the value it indexes into, looked up in `root`, is an array.
 */
export function formatPathIn(root: unknown, tokens: readonly PathToken[]): string {
  const typed: PathToken[] = [];
  let node: unknown = root;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      const index = Number(token);
      typed.push(Number.isInteger(index) ? index : token);
      node = Number.isInteger(index) ? node[index] : undefined;
    } else {
      typed.push(String(token));
      node = isRecord(node) ? node[String(token)] : undefined;
    }
  }
  return formatPath(typed);
}

/** Splits the fragment of a $ref (`/a/b~1c`, already without `#`) into unescaped tokens. */
export function decodePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return pointer === '/' ? [''] : [];
  const raw = pointer.startsWith('/') ? pointer.slice(1) : pointer;
  return raw.split('/').map((token) => {
    let decoded = token;
    try {
      decoded = decodeURIComponent(token);
    } catch {
      // a literal '%' that is not an escape: keep the token as written
    }
    return decoded.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

/** Builds an internal `#/...` reference to the given location. */
export function encodePointer(tokens: readonly PathToken[]): string {
  return (
    '#' +
    tokens
      .map((token) => '/' + encodeURI(String(token).replace(/~/g, '~0').replace(/\//g, '~1')).replace(/#/g, '%23'))
      .join('')
  );
}

/**
 * Looks a pointer up in a value. Returns `{ found: false }` when a token is missing.
 * Does not follow $refs met on the way (see the bundler for that).
 */
export function getAtPointer(root: unknown, tokens: readonly string[]): { found: true; value: unknown } | { found: false } {
  let node: unknown = root;
  for (const token of tokens) {
    if (Array.isArray(node)) {
      if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= node.length) return { found: false };
      node = node[Number(token)];
    } else if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, token)) {
      node = node[token];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: node };
}
