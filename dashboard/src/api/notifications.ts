// A project's notifications (#29): e-mail, a Slack-compatible webhook and PagerDuty. Secrets
// come back as "REDACTED" (with *_set); sending "REDACTED" or null keeps the stored value.
import { request } from './client';

export interface EmailChannel {
  enabled: boolean; host: string; port: number; from: string; to: string[];
  starttls: boolean; username: string | null; password: string | null; password_set?: boolean;
}
export interface SlackChannel { enabled: boolean; webhook_url: string | null; webhook_url_set?: boolean }
export interface PagerDutyChannel {
  enabled: boolean; routing_key: string | null; routing_key_set?: boolean; endpoint: string;
}
export interface Notifications {
  project_id: string;
  email: EmailChannel | null;
  slack: SlackChannel | null;
  pagerduty: PagerDutyChannel | null;
  events: string[];
  review_wait_hours: number;
  event_kinds: string[];
  updated_at: string | null;
  updated_by: string | null;
}
export interface Delivery { channel: string; delivered: boolean; error: string | null }

const enc = encodeURIComponent;

export const notificationsApi = {
  get: (id: string) => request<Notifications>('GET', `/projects/${enc(id)}/notifications`),
  put: (id: string, body: Omit<Notifications, 'project_id' | 'event_kinds' | 'updated_at' | 'updated_by'>) =>
    request<Notifications>('PUT', `/projects/${enc(id)}/notifications`, body),
  test: (id: string) => request<{ deliveries: Delivery[] }>('POST', `/projects/${enc(id)}/notifications/test`, {}),
};
