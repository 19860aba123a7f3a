// The HTTP/JSON gateway and the officers' console. Talks to the node only through its local gRPC API.
export { startGateway, SECURITY_HEADERS, ACCESS_COOKIE, REFRESH_COOKIE, type Gateway, type GatewayOptions } from "./server.ts";
export { ROUTES, type RouteDef } from "./routes.ts";
export { buildOpenApi, openApiPath } from "./openapi.ts";
