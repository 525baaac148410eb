import { api, onUnauthorized, setCsrf } from '../api/client';
import type { Session } from '../api/types';
import { go } from './router.svelte';

export const auth = $state<{ session: Session | null; checked: boolean }>({ session: null, checked: false });

export function signedIn(s: Session): void {
  auth.session = s;
  setCsrf(s.csrf_token);
}

export function signedOut(): void {
  auth.session = null;
  setCsrf(null);
  go('/signin');
}

onUnauthorized(() => {
  if (auth.session || location.hash !== '#/signin') signedOut();
});

/** Restores a session from the cookie at start (401: sign-in). */
export async function restore(): Promise<void> {
  try {
    signedIn(await api.session());
  } catch {
    auth.session = null;
  } finally {
    auth.checked = true;
  }
}
