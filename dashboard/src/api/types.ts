// Hand-written types for the endpoints the dashboard reads. Where the OpenAPI document
// (`npm run gen:api` → schema.d.ts) describes an endpoint only as the generic envelope,
// these are what the pages rely on. Every field the back end may leave out is optional.

export interface Envelope<T> {
  status: 'success' | 'error';
  data: T | null;
  error: { message: string; code: string; details?: { field: string; problem: string }[] } | null;
  meta: { request_id?: string; generated_at?: string; [k: string]: unknown };
}

export interface Page<T> {
  items: T[];
  pagination?: { limit: number; offset: number; total: number };
  total?: number;
}

export interface Session {
  csrf_token: string;
  key_id: string;
  project_id: string | null;
  admin: boolean;
}

export type ProjectStatus = 'RUNNING' | 'PAUSED' | 'ERROR' | string;

export interface ProjectSummary {
  project_id: string;
  name?: string;
  status: ProjectStatus;
  attention?: boolean | string | null;
  videos?: number;
  clips?: number;
  upload_queue?: number;
  last_activity?: string | null;
  throughput?: number[];
  channel?: string;
  [k: string]: unknown;
}

export interface ProjectDetail extends ProjectSummary {
  review?: 'required' | 'auto' | string;
  counts?: Record<string, number>;
  stats?: Record<string, number>;
}

export interface FunnelStage {
  name: string;
  count: number;
}

export interface Creator {
  name?: string;
  handle?: string;
  profile_url?: string;
  posts_seen?: number;
  videos?: number;
  videos_downloaded?: number;
  last_materialized?: string | null;
  [k: string]: unknown;
}

export interface ClipRow {
  clip_id: string;
  video_id?: string;
  video_key?: string;
  rank?: number;
  creator?: string;
  status: string;
  review?: string | null;
  title?: string | null;
  confidence?: number | null;
  start_time?: number;
  end_time?: number;
  [k: string]: unknown;
}

export interface Word {
  text: string;
  start: number;
  end: number;
  cut?: boolean;
}

export interface Vote {
  agent: string;
  score?: number | null;
  vote?: string | boolean | null;
  reason?: string | null;
}

export interface ClipDetail extends ClipRow {
  project_id?: string;
  partition?: string;
  title?: string | null;
  description?: string | null;
  tags?: string[];
  source_duration_s?: number | null;
  source_span?: { start: number; end: number } | [number, number] | null;
  words?: Word[];
  features?: Record<string, unknown>;
  votes?: Vote[];
  dissent?: unknown;
  video_url?: string | null;
  lineage_url?: string;
  insights_url?: string;
  review?: string | null;
  metadata?: Record<string, unknown>;
}

export interface LineageStep {
  step?: string;
  event?: string;
  asset?: string;
  run_id?: string;
  data_version?: string;
  checksum?: string | null;
  location?: string | null;
  packet?: unknown;
  stardust_id?: string | null;
  detail?: string | null;
  [k: string]: unknown;
}

export interface Insights {
  explanation?: string;
  raw_payload?: Record<string, unknown>;
  insights?: Record<string, unknown>;
}

export interface Slot {
  clip_id: string;
  partition?: string;
  title?: string | null;
  publish_at: string;
  status: string;
  reason?: string | null;
  review?: string | null;
}

export interface Calendar {
  slots: Slot[];
  free_slots: string[];
}

export interface LogEntry {
  log_id?: string;
  id?: string | number;
  created_at?: string;
  timestamp?: string;
  ts?: string;
  source?: string;
  level?: string;
  message?: string;
  worker?: string | null;
  clip_id?: string | null;
  run_id?: string | null;
  dagster_ui?: string | null;
  stardust_id?: string | null;
  metadata?: unknown;
  [k: string]: unknown;
}

export interface LogPage {
  items: LogEntry[];
  total?: number;
  pagination?: { limit: number; offset: number; total: number };
}

export interface Command {
  created_at?: string;
  message?: string;
  level?: string;
  metadata?: unknown;
  command?: string;
  action?: string;
  at?: string;
  timestamp?: string;
  key_id?: string;
  status?: string;
  result?: unknown;
  [k: string]: unknown;
}

export interface Worker {
  name?: string;
  worker?: string;
  kind?: string;
  last_heartbeat?: string | null;
  heartbeat?: string | null;
  healthy?: boolean;
  status?: string;
  [k: string]: unknown;
}

export interface Workers {
  workers?: Worker[];
  heartbeats?: Worker[] | Record<string, unknown>;
  queues?: Record<string, number> | { pool: string; depth: number }[];
  queue_depth?: Record<string, number> | { pool: string; depth: number }[];
  cpu?: number | { load_1m?: number; load_5m?: number; load_15m?: number; cores?: number } | null;
  gpu?: number | Record<string, unknown> | null;
  pools?: Record<string, { status?: string; reason?: string | null; queue_depth?: number; running?: number }>;
  load?: { cpu?: number | null; gpu?: number | null };
  [k: string]: unknown;
}
