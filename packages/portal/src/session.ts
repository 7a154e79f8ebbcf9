// The signed-in person's session, kept in sessionStorage (gone when the tab closes): the bearer token, and the
// API keys created in this session (a key is shown once by the control plane, so the portal remembers it here).
const TOKEN = 'apigov.token';
const KEYS = 'apigov.keys';

export interface SessionKey {
  credential: string;
  application: string;
  key: string;
  createdAt: string;
}

function read<T>(k: string, fallback: T): T {
  try {
    const v = sessionStorage.getItem(k);
    return v === null ? fallback : (JSON.parse(v) as T);
  } catch {
    return fallback;
  }
}

export const session = {
  token: (): string | undefined => read<string | undefined>(TOKEN, undefined),
  signIn(token: string): void {
    sessionStorage.setItem(TOKEN, JSON.stringify(token));
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(KEYS);
  },
  keys: (): SessionKey[] => read<SessionKey[]>(KEYS, []),
  rememberKey(k: SessionKey): void {
    sessionStorage.setItem(KEYS, JSON.stringify([k, ...session.keys().filter((x) => x.credential !== k.credential)]));
  },
  forgetKey(credential: string): void {
    sessionStorage.setItem(KEYS, JSON.stringify(session.keys().filter((x) => x.credential !== credential)));
  },
};
