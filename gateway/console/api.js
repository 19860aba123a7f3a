// Calls to the gateway's REST API. The session lives in HttpOnly cookies the page cannot read;
// a 401 triggers one refresh (single-use refresh token) and one retry.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? "INTERNAL";
    this.correlationId = body?.correlationId ?? "";
  }
}

let onSignedOut = () => {};
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

async function send(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  } else if (method !== "GET") {
    init.headers["content-type"] = "application/json";
    init.body = "{}";
  }
  const res = await fetch(path, init);
  return { res, json: parseBody(await res.text()) };
}

function parseBody(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { code: "INTERNAL", message: text.slice(0, 200) };
  }
}

let refreshing;
async function refresh() {
  refreshing ??= send("POST", "/api/session/refresh").finally(() => {
    refreshing = undefined;
  });
  const { res } = await refreshing;
  return res.ok;
}

export async function api(method, path, body) {
  let { res, json } = await send(method, path, body);
  if (res.status === 401 && !path.startsWith("/api/session/")) {
    if (await refresh()) ({ res, json } = await send(method, path, body));
    if (res.status === 401) {
      onSignedOut();
    }
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

export const get = (path) => api("GET", path);

/** The exact bytes of a download (e.g. a minutes bundle), with the same refresh-once on 401. */
export async function getBytes(path) {
  const once = () => fetch(path, { credentials: "same-origin" });
  let res = await once();
  if (res.status === 401 && (await refresh())) res = await once();
  if (res.status === 401) onSignedOut();
  if (!res.ok) throw new ApiError(res.status, parseBody(await res.text()));
  return new Uint8Array(await res.arrayBuffer());
}
export const post = (path, body) => api("POST", path, body);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
