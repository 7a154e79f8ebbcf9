// A windowed list: only the rows in view (plus a few either side) are in the DOM, so 10,000 catalog entries
// scroll as fast as 10. Rows have one fixed height; reaching the end asks for the next page.
import { useEffect, useRef, useState, type ReactNode } from 'react';

interface Props<T> {
  items: T[];
  rowHeight: number;
  /** total number of rows known to exist (for aria-setsize); defaults to items.length */
  total?: number;
  label: string;
  render: (item: T, index: number) => ReactNode;
  keyOf: (item: T) => string;
  onEndReached?: () => void;
  overscan?: number;
}

export function VirtualList<T>({ items, rowHeight, total, label, render, keyOf, onEndReached, overscan = 6 }: Props<T>) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  useEffect(() => {
    if (onEndReached && items.length > 0 && last >= items.length - overscan) onEndReached();
  }, [last, items.length, onEndReached, overscan]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i];
    rows.push(
      <li key={keyOf(item)} className="vrow" style={{ top: i * rowHeight, height: rowHeight }} aria-posinset={i + 1} aria-setsize={total ?? items.length}>
        {render(item, i)}
      </li>,
    );
  }
  return (
    <div ref={ref} className="vlist" style={{ height: `min(${items.length * rowHeight + 2}px, 70vh)` }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <ul aria-label={label} style={{ height: items.length * rowHeight }}>
        {rows}
      </ul>
    </div>
  );
}
