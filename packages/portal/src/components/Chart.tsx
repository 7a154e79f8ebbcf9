// A small SVG bar chart over time (one bar per minute), drawn by hand: no chart library in the bundle.
export interface Point {
  label: string;
  value: number;
}

export function BarChart({ title, points, unit, summary }: { title: string; points: Point[]; unit: string; summary: string }) {
  const W = 320;
  const H = 120;
  const pad = 24;
  const max = Math.max(1, ...points.map((p) => p.value));
  const bw = points.length === 0 ? 0 : (W - pad) / points.length;
  return (
    <figure className="chart card">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${summary}`}>
        <line x1={pad} y1={H - 16} x2={W} y2={H - 16} stroke="#8c959f" />
        <text x={0} y={12} fontSize="10" fill="#57606a">
          {Math.round(max)}
          {unit}
        </text>
        <text x={0} y={H - 18} fontSize="10" fill="#57606a">
          0
        </text>
        {points.map((p, i) => {
          const h = ((H - 32) * p.value) / max;
          return (
            <rect key={p.label} x={pad + i * bw + 1} y={H - 16 - h} width={Math.max(1, bw - 2)} height={h} fill="#0b5cad">
              <title>
                {p.label}: {p.value}
                {unit}
              </title>
            </rect>
          );
        })}
        {points.length > 0 && (
          <>
            <text x={pad} y={H - 3} fontSize="10" fill="#57606a">
              {points[0].label}
            </text>
            <text x={W} y={H - 3} fontSize="10" fill="#57606a" textAnchor="end">
              {points[points.length - 1].label}
            </text>
          </>
        )}
      </svg>
      <p className="hint">{summary}</p>
    </figure>
  );
}

/** The last `minutes` minutes as points, zero where the series has no row. */
export function perMinute<T extends { minute: string }>(series: T[], minutes: number, value: (row: T) => number): Point[] {
  const byMinute = new Map(series.map((r) => [new Date(r.minute).toISOString().slice(0, 16), r]));
  const now = Date.now();
  const out: Point[] = [];
  for (let i = minutes - 1; i >= 0; i--) {
    const t = new Date(now - i * 60_000).toISOString().slice(0, 16);
    const row = byMinute.get(t);
    out.push({ label: t.slice(11, 16), value: row ? value(row) : 0 });
  }
  return out;
}
