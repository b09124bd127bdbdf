// A small bar/line chart on uPlot (45 KB, canvas), sized to its container. The numbers it draws are also given as
// text (aria-label and a summary) so the chart is never the only way to read them.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface Series {
  label: string;
  /** One value per x (unix seconds). */
  values: number[];
  color: string;
}

export function Chart({ x, series, label, height = 160, bars }: { x: number[]; series: Series[]; label: string; height?: number; bars?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const dark = document.documentElement.classList.contains('dark');
    const axis = { stroke: dark ? '#a1a1aa' : '#52525b', grid: { stroke: dark ? '#27272a' : '#e4e4e7' }, ticks: { show: false } };
    const plot = new uPlot(
      {
        width: el.clientWidth || 400,
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        // Half a day either side, so the first and last bars are drawn whole.
        scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] } },
        axes: [axis, { ...axis, size: 48 }],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: `${s.color}55`,
            width: 2,
            ...(bars ? { paths: uPlot.paths.bars!({ size: [0.7, 40] }), points: { show: false } } : {}),
          })),
        ],
      },
      [x, ...series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, height, bars]);
  return <div ref={box} role="img" aria-label={label} className="w-full" />;
}

/** The last `days` UTC days as unix seconds (chart x values) and a key per day. */
export function lastDays(days: number): { x: number[]; keys: string[] } {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const x: number[] = [];
  const keys: string[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const t = today - i * 86_400_000;
    x.push(t / 1000);
    keys.push(new Date(t).toISOString().slice(0, 10));
  }
  return { x, keys };
}
