// The longest the event loop was held while something ran: a 1 ms ticker's longest gap (every request that
// arrived meanwhile waited that long). Shared by the benches.
export function stallMeter() {
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  return {
    /** forget what was seen so far */
    reset() {
      longest = 0;
      last = performance.now();
    },
    /** lets the ticker run once more (the last gap counts too), stops it and returns the longest gap in ms */
    async stop() {
      await new Promise((r) => setTimeout(r, 5));
      clearInterval(ticker);
      return longest;
    },
  };
}
