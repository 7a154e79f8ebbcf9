// Progress for long work: on a terminal, a spinner line on stderr after the first second (or at once
// for CPU-bound work that blocks the spinner), erased when the work ends; off a TTY nothing is printed.
const FRAMES = ['|', '/', '-', '\\'];
const DELAY_MS = 1000;
const INTERVAL_MS = 120;

export async function withProgress<T>(label: string, work: Promise<T>, options: { immediate?: boolean } = {}): Promise<T> {
  const stream = process.stderr;
  if (!stream.isTTY) return work;
  const started = Date.now();
  let frame = 0;
  let shown = options.immediate === true;
  if (shown) stream.write(`${FRAMES[0]} ${label}\x1b[K`);
  const timer = setInterval(() => {
    if (Date.now() - started < DELAY_MS) return;
    shown = true;
    const seconds = Math.round((Date.now() - started) / 1000);
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} (${seconds}s)\x1b[K`);
  }, INTERVAL_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    if (shown) stream.write('\r\x1b[K');
  }
}
