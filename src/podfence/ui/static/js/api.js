// The JSON API: the same answers as the podfence commands' -o json.
const csrf = document.querySelector('meta[name="podfence-csrf"]').content;
let context = null;

export function setContext(name) { context = name; }
export function contextName() { return context; }

function url(path, params = {}) {
  const q = new URLSearchParams();
  if (context) q.set("context", context);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function answer(response) {
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

export async function get(path, params) {
  return answer(await fetch(url(path, params), { credentials: "same-origin" }));
}

export async function post(path, text, params) {
  return answer(await fetch(url(path, params), {
    method: "POST", credentials: "same-origin", body: text,
    headers: { "Content-Type": "application/yaml", "X-Podfence-CSRF": csrf },
  }));
}

const cache = new Map();
export function forget() { cache.clear(); }  // after a save: the workspace was loaded again
export function once(path, params) {
  const key = url(path, params);
  if (!cache.has(key)) cache.set(key, get(path, params).catch((e) => { cache.delete(key); throw e; }));
  return cache.get(key);
}
