import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { createRequire } from 'node:module';
import { expect } from 'vitest';

/** Twilio's OpenAPI description of TaskRouter v1, from the npm package so any machine has it. */
const require = createRequire(import.meta.url);
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
interface Operation {
  operationId?: string;
  responses?: Record<string, { content?: Record<string, { schema: Schema }> }>;
}
type Schema = { properties?: Record<string, Schema>; items?: Schema; $ref?: string; [k: string]: unknown };

export const spec = require('@twilio-alpha/mcp/twilio-oai/spec/json/twilio_taskrouter_v1.json') as Spec;

/**
 * OpenAPI's `nullable` says "or null" of a `type`; where the spec gives none (the Event's
 * `event_data`, any JSON value) there is nothing to add null to, and Ajv refuses the schema.
 */
function dropUntypedNullable(schema: unknown): void {
  if (schema === null || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  if ('nullable' in s && !('type' in s) && !('$ref' in s)) delete s.nullable;
  for (const v of Object.values(s)) dropUntypedNullable(v);
}
dropUntypedNullable(spec.components);

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
ajv.addFormat('uri-map', true);

const validators = new Map<string, { validate: ValidateFunction; schema: Schema }>();

function findResponseSchema(operationId: string, status: number): Schema {
  for (const methods of Object.values(spec.paths)) {
    for (const op of Object.values(methods)) {
      if (typeof op !== 'object' || op === null || op.operationId !== operationId) continue;
      const schema = op.responses?.[String(status)]?.content?.['application/json']?.schema;
      if (!schema) throw new Error(`${operationId} has no ${status} JSON response in the spec`);
      return schema;
    }
  }
  throw new Error(`no operation ${operationId} in the spec`);
}

function resolve(schema: Schema): Schema {
  if (schema.$ref?.startsWith('#/components/schemas/')) {
    return spec.components.schemas[schema.$ref.slice('#/components/schemas/'.length)]!;
  }
  return schema;
}

/** Fields we send must all be named by the spec: extra keys would be a silent divergence. */
function unknownKeys(body: unknown, schema: Schema, path = '$'): string[] {
  const s = resolve(schema);
  if (!s.properties || body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(body)) {
    const sub = s.properties[k];
    if (!sub) out.push(`${path}.${k}`);
    else if (Array.isArray(v) && resolve(sub).items) {
      v.forEach((item, i) => out.push(...unknownKeys(item, resolve(sub).items!, `${path}.${k}[${i}]`)));
    } else out.push(...unknownKeys(v, sub, `${path}.${k}`)); // nested objects such as `meta`
  }
  return out;
}

function validatorFor(operationId: string, status: number) {
  const key = `${operationId}:${status}`;
  let entry = validators.get(key);
  if (!entry) {
    const schema = findResponseSchema(operationId, status);
    entry = { validate: ajv.compile({ ...schema, components: spec.components }), schema };
    validators.set(key, entry);
  }
  return entry;
}

/** What is wrong with `body` as `operationId`'s `status` response ([] when nothing); asserts nothing. */
export function specProblems(operationId: string, status: number, body: unknown): string[] {
  const entry = validatorFor(operationId, status);
  const schemaErrors = entry.validate(body)
    ? []
    : (entry.validate.errors ?? []).map((e) => `${e.instancePath || '$'} ${e.message ?? e.keyword}`);
  const extra = unknownKeys(body, entry.schema).map((k) => `${k} is not in the spec`);
  return [...schemaErrors, ...extra];
}

/** Asserts that `body` is what the spec says operation `operationId` answers with `status`. */
export function expectMatchesSpec(operationId: string, status: number, body: unknown): void {
  const entry = validatorFor(operationId, status);
  const ok = entry.validate(body);
  expect(
    ok ? [] : entry.validate.errors,
    `${operationId} ${status} response does not match the spec`,
  ).toEqual([]);
  expect(
    unknownKeys(body, entry.schema),
    `${operationId} ${status} response has fields the spec lacks`,
  ).toEqual([]);
}

/** Twilio error bodies have exactly these keys. */
export function expectTwilioError(body: unknown, status: number, code: number): void {
  expect(body).toEqual({
    code,
    message: expect.any(String),
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  });
}
