// Who is signed in, for every page below the shell.
import { createContext, useContext } from 'react';
import type { Whoami } from './api';

export const Me = createContext<Whoami | undefined>(undefined);

export function useMe(): Whoami {
  const me = useContext(Me);
  if (!me) throw new Error('not signed in');
  return me;
}
