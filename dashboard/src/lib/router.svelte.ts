// Hash routing under /app/: #/projects, #/projects/ID/TAB, #/clips/ID, #/signin.
export interface Route {
  name: 'signin' | 'projects' | 'project' | 'clip' | 'notfound';
  params: Record<string, string>;
}

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || parts[0] === 'projects') {
    if (parts.length <= 1) return { name: 'projects', params: {} };
    return { name: 'project', params: { id: parts[1], tab: parts[2] ?? 'overview' } };
  }
  if (parts[0] === 'signin') return { name: 'signin', params: {} };
  if (parts[0] === 'clips' && parts[1]) return { name: 'clip', params: { id: parts[1] } };
  return { name: 'notfound', params: {} };
}

export const router = $state({ route: parse(location.hash) });

window.addEventListener('hashchange', () => {
  router.route = parse(location.hash);
});

export function go(path: string): void {
  location.hash = `#${path}`;
}

export function href(path: string): string {
  return `#${path}`;
}
