/**
 * Offline validation of Kubernetes objects, in two parts:
 * - the OpenAPI schemas compiled into kubernetes-models (types, required fields, enums);
 * - unknown fields, which those schemas let through (the API server drops a misspelt `imagePullPolcy`
 *   silently, so it must fail here). The field lists come from the OpenAPI-generated models of
 *   @kubernetes/client-node (`attributeTypeMap`: JSON name and type of every field), walked recursively.
 */
import * as clientModels from '@kubernetes/client-node';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ReplicaSet } from 'kubernetes-models/apps/v1/ReplicaSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod } from 'kubernetes-models/v1/Pod';
import { ReplicationController } from 'kubernetes-models/v1/ReplicationController';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  ClusterRole,
  ClusterRoleBinding,
  DaemonSet,
  Deployment,
  ReplicaSet,
  StatefulSet,
  CronJob,
  Job,
  ConfigMap,
  Namespace,
  Pod,
  ReplicationController,
  Secret,
  Service,
  ServiceAccount,
};

interface Attribute {
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };
const registry = clientModels as unknown as Record<string, ModelClass | undefined>;

/** JSON field name → type name, per model; undefined for scalars and free-form types. */
function fieldsOf(type: string): Map<string, string> | undefined {
  const model = registry[type];
  if (model === undefined || typeof model.getAttributeTypeMap !== 'function') return undefined;
  return new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = ARRAY.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, array[1], `${path}[${i}]`, out));
    else out.push(`${path}: expected a list (${type})`);
    return;
  }
  const map = MAP.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [key, child] of Object.entries(value)) unknownFields(child, map[1], `${path}[${JSON.stringify(key)}]`, out);
    return;
  }
  const fields = fieldsOf(type);
  if (fields === undefined || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childType = fields.get(key);
    if (childType === undefined) out.push(`${path}.${key}: unknown field of ${type}`);
    else unknownFields(child, childType, `${path}.${key}`, out);
  }
}

/** `apps/v1` + `DaemonSet` → `V1DaemonSet`, the client's model name. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop() ?? '';
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

/** Problems with one object (empty when it is valid). */
export function validateObject(object: Record<string, any>): string[] {
  const problems: string[] = [];
  const where = `${object.kind}/${object.metadata?.name}`;
  const Model = MODELS[object.kind];
  if (!Model) return [`${where}: no schema to validate against`];
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  const type = modelName(String(object.apiVersion), String(object.kind));
  if (fieldsOf(type) === undefined) problems.push(`${where}: no field list for ${type}`);
  else unknownFields(object, type, object.kind, problems);
  return problems;
}
