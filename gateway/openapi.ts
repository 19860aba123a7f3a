/**
 * The OpenAPI 3.1 document, built from the gateway's real route table (gateway/routes.ts): query,
 * path and body schemas from the same zod schemas that validate requests, and message schemas from
 * the protobuf descriptors (the protobuf JSON mapping: lowerCamelCase names, enums by name,
 * Timestamps as RFC 3339, bytes as base64, 64-bit integers as strings).
 */
import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { z } from "zod";
import { ERRORS } from "../services/errors/index.ts";
import type { RouteDef } from "./routes.ts";

type JsonSchema = Record<string, unknown>;

const ref = (desc: DescMessage | DescEnum) => ({ $ref: `#/components/schemas/${desc.typeName}` });

function scalarSchema(type: ScalarType): JsonSchema {
  switch (type) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return { type: "string", pattern: "^-?[0-9]+$", description: "64-bit integer, as a decimal string" };
    default:
      return { type: "integer" };
  }
}

/** JSON Schemas of `root` and every message and enum it reaches, keyed by full type name. */
export function protoSchemas(roots: readonly DescMessage[]): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const visitEnum = (desc: DescEnum) => {
    if (out[desc.typeName]) return;
    out[desc.typeName] = { type: "string", enum: desc.values.map((v) => v.name) };
  };
  const fieldSchema = (field: DescField): JsonSchema => {
    switch (field.fieldKind) {
      case "scalar":
        return scalarSchema(field.scalar);
      case "enum":
        visitEnum(field.enum);
        return ref(field.enum);
      case "message":
        visit(field.message);
        return ref(field.message);
      case "list": {
        let items: JsonSchema;
        if (field.listKind === "scalar") items = scalarSchema(field.scalar);
        else if (field.listKind === "enum") {
          visitEnum(field.enum);
          items = ref(field.enum);
        } else {
          visit(field.message);
          items = ref(field.message);
        }
        return { type: "array", items };
      }
      case "map": {
        let values: JsonSchema;
        if (field.mapKind === "scalar") values = scalarSchema(field.scalar);
        else if (field.mapKind === "enum") {
          visitEnum(field.enum);
          values = ref(field.enum);
        } else {
          visit(field.message);
          values = ref(field.message);
        }
        return { type: "object", additionalProperties: values };
      }
    }
  };
  const visit = (desc: DescMessage) => {
    if (out[desc.typeName]) return;
    if (desc.typeName === "google.protobuf.Timestamp") {
      out[desc.typeName] = { type: "string", format: "date-time" };
      return;
    }
    if (desc.typeName === "google.protobuf.Struct") {
      // The protobuf JSON mapping of a Struct is the JSON object itself.
      out[desc.typeName] = { type: "object", description: "a JSON object" };
      return;
    }
    const schema: JsonSchema = { type: "object", additionalProperties: false, properties: {} };
    out[desc.typeName] = schema;
    const props = schema.properties as Record<string, JsonSchema>;
    for (const field of desc.fields) {
      props[field.jsonName] = fieldSchema(field);
    }
    const oneofs = desc.oneofs.filter((o) => o.name === "body");
    if (oneofs.length) schema.description = `Exactly one of: ${oneofs[0]!.fields.map((f) => f.jsonName).join(", ")}.`;
  };
  for (const root of roots) visit(root);
  return out;
}

function zodSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  delete json.$schema;
  return json;
}

/** fastify's `/api/drafts/:draftId` as OpenAPI's `/api/drafts/{draftId}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

export function buildOpenApi(routes: readonly RouteDef[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const messages = new Set<DescMessage>();
  for (const route of routes) {
    if (route.response.proto) messages.add(route.response.proto);
    for (const m of route.protoInputs ?? []) messages.add(m);
  }
  const errorResponse = { $ref: "#/components/responses/Error" };
  for (const route of routes) {
    const parameters: JsonSchema[] = [];
    for (const [where, schema] of [["path", route.params], ["query", route.query]] as const) {
      if (!schema) continue;
      const json = zodSchema(schema);
      const required = new Set((json.required as string[] | undefined) ?? []);
      for (const [name, prop] of Object.entries((json.properties ?? {}) as Record<string, JsonSchema>)) {
        parameters.push({ name, in: where, required: where === "path" || required.has(name), schema: prop, ...(prop.description ? { description: prop.description } : {}) });
      }
    }
    const responses: Record<string, JsonSchema> = {
      [String(route.response.status ?? 200)]: route.response.proto
        ? { description: route.response.description, content: { "application/json": { schema: route.response.schema ? route.response.schema(ref(route.response.proto)) : ref(route.response.proto) } } }
        : route.response.contentType
          ? { description: route.response.description, content: { [route.response.contentType]: { schema: { type: "string", format: "binary" } } } }
          : { description: route.response.description, content: { "application/json": { schema: route.response.json ?? { type: "object" } } } },
      "400": errorResponse,
      ...(route.auth ? { "401": errorResponse, "403": errorResponse } : {}),
      default: errorResponse,
    };
    const op: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      description: `${route.description ?? ""}${route.description ? "\n\n" : ""}Roles (checked by the node): ${route.roles}.${route.localMethod ? ` Wraps LocalApi.${route.localMethod}.` : ""}`,
      ...(parameters.length ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: !route.bodyOptional, content: { "application/json": { schema: zodSchema(route.body) } } } } : {}),
      responses,
      security: route.auth ? [{ cookie: [] }, { bearer: [] }] : [],
    };
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Liaison gateway",
      version,
      description:
        "REST/JSON over the node's local gRPC API (liaison.v1.LocalApi). Every error is `{ code, message, correlationId }` " +
        "with the HTTP status of the code (services/errors). Request bodies are JSON objects; unknown fields, keys starting " +
        "with `$` and the keys `__proto__`, `constructor`, `prototype` are refused with 400.",
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      securitySchemes: {
        cookie: { type: "apiKey", in: "cookie", name: "liaison_access" },
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      },
      responses: {
        Error: { description: "A refusal", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["code", "message", "correlationId"],
          properties: {
            code: { type: "string", enum: Object.keys(ERRORS) },
            message: { type: "string" },
            correlationId: { type: "string" },
          },
        },
        ...protoSchemas([...messages]),
      },
    },
  };
}
