// The typed API client: fetch with the session cookie, the CSRF header on every state
// change, the {status,data,error,meta} envelope unwrapped. Pages call these functions only.
import type {
  Calendar, ClipDetail, ClipRow, Command, Creator, Envelope, FunnelStage, Insights,
  LineageStep, LogEntry, LogPage, Page, ProjectDetail, ProjectSummary, Session, Workers,
} from './types';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public details: { field: string; problem: string }[] = [],
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
const unauthorizedListeners = new Set<() => void>();

/** Called when any request answers 401 (the app goes back to sign-in). */
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Query = Record<string, string | number | boolean | null | undefined>;

function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return `/v1${path}${qs ? `?${qs}` : ''}`;
}

export async function request<T>(method: Method, path: string, body?: unknown, query?: Query): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  // A FormData body goes as multipart (the browser sets its boundary); anything else as JSON.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let resp: Response;
  try {
    resp = await fetch(url(path, query), {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the API did not answer (${(e as Error).message})`);
  }
  let env: Envelope<T> | null = null;
  try {
    env = (await resp.json()) as Envelope<T>;
  } catch {
    env = null;
  }
  if (!resp.ok || !env || env.status !== 'success') {
    const err = env?.error;
    if (resp.status === 401 && path !== '/session') unauthorizedListeners.forEach((fn) => fn());
    throw new ApiError(resp.status, err?.code ?? 'HTTP_ERROR', err?.message ?? `HTTP ${resp.status}`, err?.details ?? []);
  }
  return env.data as T;
}

const enc = encodeURIComponent;

export const api = {
  // session
  signIn: (apiKey: string) => request<Session>('POST', '/session', { api_key: apiKey }),
  session: () => request<Session>('GET', '/session'),
  signOut: () => request<unknown>('DELETE', '/session'),

  // projects
  projects: () => request<Page<ProjectSummary>>('GET', '/projects'),
  createProject: (name: string, channel?: string) =>
    request<ProjectDetail>('POST', '/projects', channel ? { name, channel } : { name }),
  project: (id: string) => request<ProjectDetail>('GET', `/projects/${enc(id)}`),
  projectAction: (id: string, action: 'start' | 'stop' | 'restart') =>
    request<unknown>('POST', `/projects/${enc(id)}/${action}`),
  funnel: (id: string) => request<{ stages: FunnelStage[] }>('GET', `/projects/${enc(id)}/funnel`),
  creators: (id: string) => request<Page<Creator> | Creator[]>('GET', `/projects/${enc(id)}/creators`),
  addCreator: (id: string, handle: string, profileUrl: string) =>
    request<Creator>('POST', `/projects/${enc(id)}/creators`, { handle, profile_url: profileUrl }),
  scrape: (id: string) => request<unknown>('POST', `/projects/${enc(id)}/scrape`, {}),
  replan: (id: string) => request<unknown>('POST', `/projects/${enc(id)}/schedule`, {}),
  resetFailed: (id: string) => request<unknown>('POST', `/projects/${enc(id)}/reset-failed`, {}),
  releaseQuarantine: (id: string, partition: string) =>
    request<unknown>('POST', `/projects/${enc(id)}/quarantine/release`, { partition }),
  commands: (id: string) => request<Page<Command> | Command[]>('GET', `/projects/${enc(id)}/commands`),
  setReviewMode: (id: string, review: string) =>
    request<unknown>('PUT', `/projects/${enc(id)}/review-mode`, { review }),

  // clips
  clips: (id: string, status: string, limit: number, offset: number) =>
    request<Page<ClipRow>>('GET', `/projects/${enc(id)}/clips`, undefined, { status, limit, offset }),
  clip: (clipId: string) => request<ClipDetail>('GET', `/clips/${enc(clipId)}`),
  lineage: (clipId: string) => request<{ steps: LineageStep[] }>('GET', `/clips/${enc(clipId)}/lineage`),
  insights: (clipId: string) => request<Insights>('GET', `/clips/${enc(clipId)}/insights`),
  review: (clipId: string, decision: 'approve' | 'reject', reason: string) =>
    request<unknown>('POST', `/clips/${enc(clipId)}/review`, { decision, reason }),
  saveCopy: (clipId: string, title: string, description: string, tags: string[]) =>
    request<unknown>('PUT', `/clips/${enc(clipId)}/copy`, { title, description, tags }),
  recut: (clipId: string, start: number, end: number) =>
    request<unknown>('POST', `/clips/${enc(clipId)}/recut`, { start, end }),
  upload: (clipId: string) => request<unknown>('POST', `/clips/${enc(clipId)}/upload`, {}),

  // schedule
  calendar: (id: string, from: string, to: string) =>
    request<Calendar>('GET', `/projects/${enc(id)}/calendar`, undefined, { from, to }),
  moveSlot: (id: string, clipId: string, publishAt: string) =>
    request<unknown>('POST', `/projects/${enc(id)}/calendar/move`, { clip_id: clipId, publish_at: publishAt }),

  // logs
  logEntries: (id: string, q: Query) => request<LogPage>('GET', `/projects/${enc(id)}/log-entries`, undefined, q),

  // system
  workers: () => request<Workers>('GET', '/system/workers'),
};

/** A WebSocket on the API's origin (the session cookie goes with it). */
export function liveSocket(path: string): WebSocket {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return new WebSocket(`${proto}//${location.host}/v1${path}`);
}

/** Items of a list answer, whether it is a page or a bare array. */
export function itemsOf<T>(data: Page<T> | T[] | null | undefined): T[] {
  if (!data) return [];
  return Array.isArray(data) ? data : (data.items ?? []);
}

export function totalOf<T>(data: Page<T> | LogPage | null | undefined): number {
  if (!data) return 0;
  return data.pagination?.total ?? data.total ?? data.items?.length ?? 0;
}

export type { LogEntry };
