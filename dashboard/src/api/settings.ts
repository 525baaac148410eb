// A project's settings (#29): the value in force and where it comes from; changes; the audit.
import { request } from './client';

export type SettingValue = number | string | string[] | Record<string, string[]> | null;

export interface Setting {
  name: string;
  label: string;
  group: string;
  advanced: boolean;
  help: string;
  value: SettingValue;
  source: 'project' | 'environment' | 'goals' | 'default';
  where: string;
  env: string | null;
  default: SettingValue;
  influences: string[];
}

export interface SettingsView {
  project_id: string;
  precedence: string;
  settings: Setting[];
  deployment: Record<string, string>;
  changed?: Record<string, { before: SettingValue; after: SettingValue }>;
}

export interface SettingsChange {
  log_id: string;
  at: string;
  key_id: string | null;
  message: string;
  changes: Record<string, { before: SettingValue; after: SettingValue }>;
}

const enc = encodeURIComponent;

export const settingsApi = {
  get: (id: string) => request<SettingsView>('GET', `/projects/${enc(id)}/settings`),
  put: (id: string, changes: Record<string, SettingValue>) =>
    request<SettingsView>('PUT', `/projects/${enc(id)}/settings`, changes),
  history: (id: string) =>
    request<{ items: SettingsChange[] }>('GET', `/projects/${enc(id)}/settings/history`),
};

export interface TemplatePreview {
  clip_id: string;
  variables: { name: string; help: string; value: string }[];
  chorus: { title: string; description: string; tags: string[] };
  copy: { title: string; description: string; tags: string[] };
  problems: { field: string; problem: string }[];
}

export const templatesApi = {
  preview: (id: string, templates: Record<string, string>) =>
    request<TemplatePreview>('POST', `/projects/${enc(id)}/templates/preview`, templates),
};
