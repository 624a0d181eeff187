// The public API, called with the visitor's own access: anonymous, signed in (the
// session cookie, which the page never sees, plus the CSRF token sent with every write),
// or with an API key they pasted (kept in sessionStorage only, sent as a bearer token).

export interface NodeRecord {
  id: string;
  kind: string;
  name: string;
  [field: string]: unknown;
}

export interface Page<T> {
  items: T[];
  total?: number | null;
  /** True when `total` is over 10,000 and may be a recent count: say "about". */
  total_is_estimate?: boolean;
  limit?: number;
  offset?: number;
  next_cursor?: string | null;
}

export interface EdgeRecord {
  kind: string;
  source: string;
  target: string;
  [field: string]: unknown;
}

/** An error answered by the API as problem JSON. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: { field: string; reason: string }[] = [],
  ) {
    super(`${status}: ${detail}`);
  }
}

/** The server did not answer in time (the page shows what it has and says so). */
export class TimedOut extends Error {
  constructor(readonly path: string) {
    super(`${path} did not answer in time`);
  }
}

const TIMEOUT_MS = 20_000;

/** The endpoint does not exist on this server (yet): not an error of the request. */
export class NotAvailable extends Error {
  constructor(readonly path: string) {
    super(`${path} is not available`);
  }
}

const KEY = "cocreate.key";

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  window.dispatchEvent(new Event("cocreate:key"));
}

export type Params = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

export function query(params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The signed-in account, as `GET /v1/account` answers it. */
export interface Account {
  id: string;
  email: string;
  name: string;
  role: "member" | "editor" | "admin";
  person_id: string | null;
  created_at: number;
  digest: boolean;
}

let account: Account | null = null;
let csrf: string | null = null;
let sessionLoaded: Promise<Account | null> | null = null;
let sessionChanges = 0;

/** The signed-in account (null for a visitor who has not signed in). */
export function currentAccount(): Account | null {
  return account;
}

/** Ask the server who is signed in (once per page load unless `refresh`). */
export function loadSession(refresh = false): Promise<Account | null> {
  if (!sessionLoaded || refresh) {
    // A sign-in answered while this was on its way (the confirmation page signs in as it
    // loads) is newer than what this answer says: keep it.
    const asked = sessionChanges;
    const keep = (): Account | null => account;
    sessionLoaded = request<{ account: Account | null; csrf_token?: string }>("GET", "/v1/account/session")
      .then((body) => (asked === sessionChanges ? setSession(body.account, body.csrf_token ?? null, false) : keep()))
      .catch(() => (asked === sessionChanges ? setSession(null, null, false) : keep()));
  }
  return sessionLoaded;
}

/** Remember the session an answer of sign-in, sign-up or verification gave. */
export function setSession(next: Account | null, token: string | null, announce = true): Account | null {
  const changed = (account?.id ?? null) !== (next?.id ?? null) || account?.name !== next?.name;
  if (announce) sessionChanges += 1;
  account = next;
  csrf = next ? token : null;
  sessionLoaded = Promise.resolve(next);
  if (changed || announce) {
    forgetCache();
    window.dispatchEvent(new Event("cocreate:session"));
  }
  return next;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  else if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      signal: abort.signal,
    });
  } catch (error) {
    if (abort.signal.aborted) throw new TimedOut(`${method} ${decodeURIComponent(path.split("?")[0])}`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  if (response.ok) {
    return (response.status === 204 ? null : await response.json()) as T;
  }
  let problem: { detail?: string; errors?: { field: string; reason: string }[] } = {};
  try {
    problem = await response.json();
  } catch {
    // not JSON: keep the status alone
  }
  // A route that does not exist answers the framework's bare "Not Found" / "Method Not
  // Allowed"; a missing node answers a sentence naming it.
  const bare = problem.detail === "Not Found" || problem.detail === "Method Not Allowed";
  if ((response.status === 404 || response.status === 405) && bare) {
    throw new NotAvailable(`${method} ${decodeURIComponent(path.split("?")[0])}`);
  }
  throw new ApiError(response.status, problem.detail ?? response.statusText, problem.errors ?? []);
}

export function get<T>(path: string, params?: Params): Promise<T> {
  return request<T>("GET", path + query(params));
}

export function post<T>(path: string, body?: unknown): Promise<T> {
  return request<T>("POST", path, body);
}

export function put<T>(path: string, body?: unknown): Promise<T> {
  return request<T>("PUT", path, body);
}

export function patch<T>(path: string, body: unknown): Promise<T> {
  return request<T>("PATCH", path, body);
}

export function del<T>(path: string, body?: unknown): Promise<T> {
  return request<T>("DELETE", path, body);
}

/** The message the API gave for one field (`body.bio`, ...), for a form to show beside it. */
export function fieldErrors(error: unknown): Map<string, string> {
  const found = new Map<string, string>();
  if (error instanceof ApiError) {
    for (const item of error.errors) found.set(item.field, item.reason);
  }
  return found;
}

const cache = new Map<string, Promise<unknown>>();

/** A GET whose answer is kept for the session (reference lists that rarely change). */
export function cached<T>(path: string, params?: Params): Promise<T> {
  const url = path + query(params);
  let found = cache.get(url);
  if (!found) {
    found = get<T>(url).catch((error: unknown) => {
      cache.delete(url);
      throw error;
    });
    cache.set(url, found);
  }
  return found as Promise<T>;
}

export function forgetCache(): void {
  cache.clear();
}

export function node(id: string): Promise<NodeRecord> {
  return get<NodeRecord>(`/v1/nodes/${encodeURIComponent(id)}`);
}

export function sectors(): Promise<Page<NodeRecord>> {
  return cached<Page<NodeRecord>>("/v1/nodes", { kind: "sector", limit: 50 });
}

export function communities(): Promise<Page<NodeRecord>> {
  return cached<Page<NodeRecord>>("/v1/nodes", { kind: "community", limit: 200 });
}

const LINKS_PAGE = 200; // the API's largest page
const LINKS_MAX = 5000; // enough for any community or organisation; hubs show counts instead

/**
 * Every item of an offset-paged list: the first page says the server's `total`, the rest
 * are fetched together. Counting one page only once showed "People (180)" for 198.
 */
export async function allPages<T>(path: string, params: Params, max = LINKS_MAX): Promise<T[]> {
  const first = await get<Page<T>>(path, { ...params, limit: LINKS_PAGE });
  const total = Math.min(first.total ?? first.items.length, max);
  const step = Math.max(1, first.limit ?? LINKS_PAGE); // the page size the server used
  const offsets: number[] = [];
  for (let offset = step; offset < total && first.items.length > 0; offset += step) offsets.push(offset);
  const rest = await Promise.all(offsets.map((offset) => get<Page<T>>(path, { ...params, limit: LINKS_PAGE, offset })));
  return [first, ...rest].flatMap((page) => page.items);
}

/** A node's links: its edges (kinds) joined with its neighbours (names), for one hop; all of them. */
export async function links(id: string, kinds?: string[]): Promise<{ edge: EdgeRecord; other: NodeRecord }[]> {
  const [edges, around] = await Promise.all([
    allPages<EdgeRecord>("/v1/edges", { node: id, kind: kinds }),
    allPages<{ distance: number; node: NodeRecord }>(`/v1/nodes/${encodeURIComponent(id)}/neighbors`, { depth: 1 }),
  ]);
  const byId = new Map(around.map((item) => [item.node.id, item.node]));
  const found: { edge: EdgeRecord; other: NodeRecord }[] = [];
  for (const edge of edges) {
    const otherId = edge.source === id ? edge.target : edge.source;
    const other = byId.get(otherId) ?? { id: otherId, kind: otherId.split(":")[0], name: otherId };
    found.push({ edge, other });
  }
  return found;
}
