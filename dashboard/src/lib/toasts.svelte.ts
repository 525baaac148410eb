export interface Toast {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

let next = 1;
export const toasts = $state<{ list: Toast[] }>({ list: [] });

export function toast(text: string, kind: Toast['kind'] = 'error'): void {
  const id = next++;
  toasts.list.push({ id, kind, text });
  setTimeout(() => dismiss(id), kind === 'error' ? 8000 : 4000);
}

export function dismiss(id: number): void {
  toasts.list = toasts.list.filter((t) => t.id !== id);
}

export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) {
    const code = 'code' in e ? ` (${String((e as { code: unknown }).code)})` : '';
    return `${String((e as { message: unknown }).message)}${code}`;
  }
  return String(e);
}
