// One CLI invocation's shared state: the control plane client (resolved lazily from config and env,
// so local commands never need one) and the exit code a command settles on.
import type { Command } from 'commander';
import { resolveTarget, type Target } from './config.js';
import { ControlPlaneClient } from './http.js';
import { freshToken } from './sso.js';

export class Session {
  exitCode = 0;
  #target: Promise<Target> | undefined;
  #token: Promise<string | undefined> | undefined;
  readonly env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.env = env;
  }

  target(): Promise<Target> {
    this.#target ??= resolveTarget(this.env);
    return this.#target;
  }

  async client(): Promise<ControlPlaneClient> {
    const t = await this.target();
    // a single sign-on context's token is renewed here when it has expired (once per invocation: refresh tokens are single use)
    this.#token ??= t.contextSettings?.sso !== undefined && t.context !== undefined ? freshToken(this.env, t.context, t.contextSettings) : Promise.resolve(t.token);
    return new ControlPlaneClient(t.url, await this.#token);
  }

  /**
   * Wraps a command handler for commander: its resolved number (if any) becomes the exit code;
   * a throw propagates to `main`, which prints the one-line error.
   */
  action<A extends unknown[]>(handler: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      const code = await handler(...args);
      if (typeof code === 'number') this.exitCode = code;
    };
  }
}

/** What every command module exports: adds its commands to the program. */
export type CommandRegistrar = (program: Command, session: Session) => void;
