// The one way both apps talk to the API: same origin, JSON in and out, the
// session token as a bearer, and RFC 9457 problems turned into errors that
// carry the server's own explanation.

/** An answer of the API that is not a success. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
  get retryable() {
    return this.problem.retryable === true;
  }
}

/**
 * A client whose token is read from `store` (localStorage under `key`) at
 * each call; `onUnauthenticated` runs when the server refuses the token.
 */
export function makeClient({ key, onUnauthenticated = () => {} }) {
  const token = () => localStorage.getItem(key);
  async function call(method, path, body, { headers = {}, raw = false } = {}) {
    const init = { method, headers: { Accept: 'application/json', ...headers } };
    const bearer = token();
    if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) {
      if (body instanceof Blob || typeof body === 'string') {
        init.body = body;
      } else {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
    }
    const response = await fetch(path, init);
    if (response.status === 401 && bearer) onUnauthenticated();
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        problem = null;
      }
      throw new ApiError(response.status, problem);
    }
    if (raw) return response;
    if (response.status === 204) return null;
    const type = response.headers.get('content-type') || '';
    return type.includes('json') ? response.json() : response.text();
  }
  return {
    token,
    setToken(value) {
      if (value) localStorage.setItem(key, value);
      else localStorage.removeItem(key);
    },
    get: (path, opts) => call('GET', path, undefined, opts),
    post: (path, body, opts) => call('POST', path, body, opts),
    put: (path, body, opts) => call('PUT', path, body, opts),
    del: (path, opts) => call('DELETE', path, undefined, opts),
  };
}

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '' && value !== false) {
      search.set(name, value === true ? '1' : String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
