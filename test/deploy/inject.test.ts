/** Issue 6: `logferry inject` on the workload kinds people deploy, validated, idempotent, precise on errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { inject, SIDECAR_NAME } from '../../src/deploy/inject.js';
import { validateObject } from '../helpers/k8s-validate.js';
import { runAgent } from '../helpers/agent-process.js';

const DEPLOYMENT = `# the web front end
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27 # pinned
          ports: [{containerPort: 80}]
          volumeMounts:
            - {name: conf, mountPath: /etc/nginx/conf.d}
      volumes:
        - {name: conf, configMap: {name: web-conf}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
`;

const STATEFULSET = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
        - {name: exporter, image: exporter:1}
        - {name: postgres, image: postgres:17}
`;

const CRONJOB = `apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - {name: report, image: report:2}
`;

function docs(text: string): Record<string, any>[] {
  return parseAllDocuments(text).map((d) => d.toJS());
}

function podSpec(object: Record<string, any>): Record<string, any> {
  return object.kind === 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.kind === 'Pod' ? object.spec : object.spec.template.spec;
}

describe('logferry inject', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-inject-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, text, container] of [['Deployment + Service', DEPLOYMENT, 'web'], ['StatefulSet', STATEFULSET, 'postgres'], ['CronJob', CRONJOB, 'report']] as const) {
    it(`${name}: valid output, app container untouched but for the mount, idempotent`, () => {
      const options = { paths: ['/var/log/app/*.log'], esHost: 'es.example', esPort: 9200, container: name === 'StatefulSet' ? 'postgres' : undefined };
      const once = inject(text, options);
      const twice = inject(once, options);
      assert.equal(twice, once, 'injecting twice changes nothing');
      const before = docs(text);
      const after = docs(once);
      assert.equal(after.length, before.length);
      for (const object of after) assert.deepEqual(validateObject(object), [], `${object.kind}`);
      const workload = after[0];
      const spec = podSpec(workload);
      const original = podSpec(before[0]);
      const app = spec.containers.find((c: any) => c.name === container);
      const appBefore = original.containers.find((c: any) => c.name === container);
      const { volumeMounts, ...rest } = app;
      const { volumeMounts: mountsBefore = [], ...restBefore } = appBefore;
      assert.deepEqual(rest, restBefore, 'nothing but volumeMounts changes in the app container');
      assert.deepEqual(volumeMounts, [...mountsBefore, { name: 'logferry-logs', mountPath: '/var/log/app' }]);
      const side = spec.containers.find((c: any) => c.name === SIDECAR_NAME);
      const env = Object.fromEntries(side.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
      assert.equal(env.LOGFERRY_PATHS, '/var/log/app/*.log');
      assert.equal(env.POD_NAME, 'metadata.name');
      assert.equal(env.POD_UID, 'metadata.uid');
      assert.equal(env.LOGFERRY_APP_CONTAINER, container);
      assert.equal(side.volumeMounts[0].readOnly, true, 'the sidecar never writes to the app volume');
      assert.ok(spec.volumes.some((v: any) => v.name === 'logferry-podinfo' && v.downwardAPI.items[0].fieldRef.fieldPath === 'metadata.labels'));
      if (name.startsWith('Deployment')) {
        assert.match(once, /^# the web front end$/m, 'comments survive');
        assert.match(once, /image: nginx:1.27 # pinned/);
        assert.deepEqual(after[1], before[1], 'the Service is untouched');
      }
    });
  }

  it('the command: file in, YAML out; bad YAML and unsupported kinds exit 2 naming the document', async () => {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, DEPLOYMENT);
    const ok = await runAgent({ args: ['inject', '-f', file, '--path', '/var/log/app/*.log', '--es-secret', 'es-creds'] });
    assert.equal(ok.code, 0, ok.stderr);
    const side = podSpec(docs(ok.stdout)[0]).containers[1];
    assert.equal(side.envFrom[0].secretRef.name, 'es-creds');
    writeFileSync(join(dir, 'bad.yaml'), DEPLOYMENT + '---\nkind: [unclosed\n');
    const bad = await runAgent({ args: ['inject', '-f', join(dir, 'bad.yaml'), '--path', '/var/log/app/a.log'] });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /document 3: not valid YAML/);
    writeFileSync(join(dir, 'rc.yaml'), 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: old}\n');
    const rc = await runAgent({ args: ['inject', '-f', join(dir, 'rc.yaml'), '--path', '/var/log/app/a.log'] });
    assert.equal(rc.code, 2);
    assert.match(rc.stderr, /document 1: kind "ReplicationController" is not supported/);
    const dirs = await runAgent({ args: ['inject', '-f', file, '--path', '/var/log/a/*.log', '--path', '/var/log/b/*.log'] });
    assert.equal(dirs.code, 2);
    assert.match(dirs.stderr, /all paths must be in one directory/);
  });
});
