// Running a snapshot load between requests: its verification and compilation are generators that yield between
// units of work (a route, a thousand keys); this runs them in slices of a few ms and lets requests in between.

/** how long one slice of a snapshot load may hold the event loop */
export const LOAD_SLICE_MS = 8;

/** work done step by step: each `yield` is a point where requests may be served */
export type LoadSteps<T> = Generator<void, T, void>;

/** Runs `steps` to the end at once (tests, tools, a small snapshot). */
export function runToEnd<T>(steps: LoadSteps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * Runs `steps` in slices of `sliceMs`, yielding to the event loop (setImmediate: pending I/O first) in between.
 * A load that fits in one slice finishes synchronously, before the promise is even awaited.
 */
export function runInSlices<T>(steps: LoadSteps<T>, sliceMs = LOAD_SLICE_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const slice = (): void => {
      const until = performance.now() + sliceMs;
      try {
        for (;;) {
          const r = steps.next();
          if (r.done === true) {
            resolve(r.value);
            return;
          }
          if (performance.now() >= until) break;
        }
      } catch (err) {
        reject(err);
        return;
      }
      setImmediate(slice);
    };
    slice();
  });
}

/** The time a load's steps themselves take, without the requests served between them. */
export class BusyClock {
  private busyMs = 0;
  private resumedAt = performance.now();

  /** call before a yield */
  pause(): void {
    this.busyMs += performance.now() - this.resumedAt;
  }

  /** call after a yield */
  resume(): void {
    this.resumedAt = performance.now();
  }

  /** runs other steps, not counting the time between theirs */
  *around<T>(steps: LoadSteps<T>): LoadSteps<T> {
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
      this.pause();
      yield;
      this.resume();
    }
  }

  get ms(): number {
    return this.busyMs + performance.now() - this.resumedAt;
  }
}
