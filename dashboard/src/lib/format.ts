export function num(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

export function secs(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  const m = Math.floor(n / 60);
  const s = n - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}

export function when(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function json(v: unknown): string {
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

/** A CSS class for a status word: lower case, letters and dashes only. */
export function statusClass(s: unknown): string {
  return `st-${String(s ?? 'unknown').toLowerCase().replace(/[^a-z]+/g, '-')}`;
}
