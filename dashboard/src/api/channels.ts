// A project's YouTube channels (#29): tokens, quota, the channel it publishes to, connecting
// (the OAuth authorization URL), revoking, and the banner/logo upload (multipart).
import { request } from './client';

export type TokenStatus = 'valid' | 'expiring' | 'expired' | 'revoked' | 'missing';

export interface QuotaBucket {
  bucket: string;
  unit: 'units' | 'calls';
  used: number;
  limit: number;
  remaining: number;
  exhausted: string | null;
  resets_at: string;
}

export interface ChannelQuota {
  project: string;
  model: string;
  day: string;
  buckets: QuotaBucket[];
  exhausted: string | null;
  uploads_today: number;
  paused: string | null;
  resets_at: string;
}

export interface BrandingImage {
  mime: string;
  width: number;
  height: number;
  bytes: number;
  uploaded_at?: string;
  applied_at?: string;
  banner_url?: string;
  url: string; // the kept image, under /v1 (fetched with the session cookie)
}

export interface Channel {
  channel: string;
  channel_id: string | null;
  channel_title: string | null;
  status: TokenStatus;
  scopes: string[];
  expiry: string | null;
  refresh_expires_at: string | null;
  has_refresh_token: boolean;
  authorized_at: string | null;
  revoked_at: string | null;
  selected: boolean;
  quota: ChannelQuota;
  branding: { banner?: BrandingImage; logo?: BrandingImage };
}

export interface ChannelsView {
  project_id: string;
  channel: string | null;
  channel_connected: boolean;
  /** The emulator's address when uploads go there with its development token (no token needed). */
  emulator_dev_token: string | null;
  connect_available: boolean;
  items: Channel[];
}

export interface ConnectStart {
  channel: string;
  authorization_url: string;
  redirect_uri: string;
  expires_in_s: number;
}

export interface BrandingResult {
  channel: string;
  banner?: { width: number; height: number; bytes: number; mime: string; applied?: boolean; banner_url?: string; error?: string };
  logo?: { width: number; height: number; bytes: number; mime: string };
  branding: Channel['branding'];
}

const enc = encodeURIComponent;
const base = (id: string) => `/projects/${enc(id)}`;

/** A multipart POST (``request`` sends a FormData body as it is, with the CSRF token). */
function upload<T>(path: string, form: FormData): Promise<T> {
  return request<T>('POST', path, form);
}

export const channelsApi = {
  list: (id: string) => request<ChannelsView>('GET', `${base(id)}/channels`),
  choose: (id: string, channel: string) => request<ChannelsView>('PUT', `${base(id)}/channel`, { channel }),
  connect: (id: string, channel: string) =>
    request<ConnectStart>('POST', `${base(id)}/channels/connect`, { channel }),
  revoke: (id: string, channel: string) =>
    request<Channel & { revoked_remotely: boolean; note: string }>('POST', `${base(id)}/channels/${enc(channel)}/revoke`),
  branding: (id: string, channel: string, files: { banner?: File | null; logo?: File | null }) => {
    const form = new FormData();
    if (files.banner) form.append('banner', files.banner);
    if (files.logo) form.append('logo', files.logo);
    return upload<BrandingResult>(`${base(id)}/channels/${enc(channel)}/branding`, form);
  },
  /** A kept banner or logo as an object URL (the API answers it with the session cookie). */
  image: async (url: string): Promise<string | null> => {
    const resp = await fetch(url, { credentials: 'same-origin' });
    return resp.ok ? URL.createObjectURL(await resp.blob()) : null;
  },
};
