/** Issue 6: `logferry inject` on the workload kinds people deploy, validated, idempotent, precise on errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_ENV_VARS } from '../../src/config/env-vars.js';
import { loadConfig } from '../../src/config/load.js';
import { inject, LOGS_VOLUME, SIDECAR_NAME, type InjectOptions } from '../../src/deploy/inject.js';
import { IMAGE_USER } from '../../src/deploy/objects.js';
import { IMAGE_APP_PATHS } from '../../src/deploy/mount-paths.js';
import { sidecarInput } from '../../src/sources/file/sidecar.js';
import { BIN, runAgent } from '../helpers/agent-process.js';
import { documents, ROOT } from './contract.js';
import { validateObject } from './k8s-validate.js';

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
      initContainers:
        - {name: init-perms, image: busybox:1.37, command: [chown, "999", /data]}
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

const JOB = `apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - {name: migrate, image: migrate:3}
`;

const POD = `apiVersion: v1
kind: Pod
metadata: {name: one, namespace: tools}
spec:
  containers:
    - {name: tool, image: tool:1}
`;

const DAEMONSET_IN_LIST = `apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-tool}
    spec:
      selector: {matchLabels: {app: node-tool}}
      template:
        metadata: {labels: {app: node-tool}}
        spec:
          containers:
            - {name: tool, image: tool:1}
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {a: b}
`;

function podSpec(object: Record<string, any>): Record<string, any> {
  if (object.kind === 'CronJob') return object.spec.jobTemplate.spec.template.spec;
  return object.kind === 'Pod' ? object.spec : object.spec.template.spec;
}

function workloads(objects: Record<string, any>[]): Record<string, any>[] {
  return objects.flatMap((o) => (o.kind === 'List' ? o.items : [o])).filter((o) => !['Service', 'ConfigMap'].includes(o.kind));
}

/** The sidecar's view, as `logferry run --profile sidecar` loads it from the injected env. */
async function sidecarView(side: Record<string, any>) {
  const env: Record<string, string> = { POD_NAME: 'web-7d9f-abcde', POD_NAMESPACE: 'shop', POD_UID: 'uid-1', NODE_NAME: 'node-1' };
  for (const e of side.env) if (typeof e.value === 'string') env[e.name] = e.value;
  const dataDir = side.args[side.args.indexOf('--data-dir') + 1];
  const config = await loadConfig({ env, overrides: { profile: side.args[side.args.indexOf('--profile') + 1], dataDir } });
  return { config, input: sidecarInput(config, env), env };
}

describe('logferry inject', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lf-inject-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, string, string, Partial<InjectOptions>]> = [
    ['Deployment + Service', DEPLOYMENT, 'web', {}],
    ['StatefulSet, second container', STATEFULSET, 'postgres', { container: 'postgres' }],
    ['CronJob', CRONJOB, 'report', {}],
    ['Job', JOB, 'migrate', {}],
    ['Pod', POD, 'tool', {}],
    ['List with a DaemonSet', DAEMONSET_IN_LIST, 'tool', {}],
  ];
  for (const [name, text, container, extra] of cases) {
    it(`${name}: valid output, native sidecar, app container untouched but for the mount, idempotent`, async () => {
      const options: InjectOptions = { paths: ['/var/log/app/*.log', '/var/log/app/audit.json'], esHost: 'es.example', esPort: 9200, ...extra };
      const once = inject(text, options);
      assert.equal(inject(once, options), once, 'injecting twice changes nothing');
      const beforeObjects = documents(text);
      const afterObjects = documents(once);
      assert.equal(afterObjects.length, beforeObjects.length);
      for (const object of afterObjects.filter((o) => o.kind !== 'List')) assert.deepEqual(validateObject(object), [], object.kind);
      for (const object of afterObjects.flatMap((o) => (o.kind === 'List' ? o.items : [])))
        assert.deepEqual(validateObject(object), [], `List item ${object.kind}`);
      const [workload] = workloads(afterObjects);
      const spec = podSpec(workload);
      const original = podSpec(workloads(beforeObjects)[0]);
      // The app: only its volumeMounts grow.
      const { volumeMounts, ...rest } = spec.containers.find((c: any) => c.name === container);
      const { volumeMounts: mountsBefore = [], ...restBefore } = original.containers.find((c: any) => c.name === container);
      assert.deepEqual(rest, restBefore, 'nothing but volumeMounts changes in the app container');
      assert.deepEqual(volumeMounts, [...mountsBefore, { name: LOGS_VOLUME, mountPath: '/var/log/app' }]);
      assert.deepEqual(
        spec.containers.map((c: any) => c.name),
        original.containers.map((c: any) => c.name),
        'no container added to containers[]',
      );
      // The sidecar: last init container, restartPolicy Always (stopped after the app; Jobs complete).
      const inits = spec.initContainers;
      assert.deepEqual(inits.slice(0, -1), original.initContainers ?? [], 'existing init containers untouched, and run first');
      const side = inits[inits.length - 1];
      assert.equal(side.name, SIDECAR_NAME);
      assert.equal(side.restartPolicy, 'Always');
      assert.equal(side.securityContext.runAsUser, IMAGE_USER);
      assert.equal(side.volumeMounts[0].readOnly, true, 'the sidecar never writes to the app volume');
      assert.equal(side.volumeMounts[0].mountPath, '/var/log/app', 'the globs mean the same in both containers');
      for (const e of side.env) assert.ok(ALL_ENV_VARS.includes(e.name) || e.name === 'NODE_OPTIONS', `${e.name} is not read by the agent`);
      const fields = Object.fromEntries(side.env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath]));
      assert.deepEqual(fields, { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', POD_UID: 'metadata.uid', NODE_NAME: 'spec.nodeName' });
      const volumes = Object.fromEntries(spec.volumes.map((v: any) => [v.name, v]));
      for (const m of side.volumeMounts) assert.ok(volumes[m.name], `sidecar mount ${m.mountPath} names no volume`);
      assert.deepEqual(volumes['logferry-logs'], { name: 'logferry-logs', emptyDir: {} });
      assert.deepEqual(volumes['logferry-state'], { name: 'logferry-state', emptyDir: {} });
      assert.equal(volumes['logferry-podinfo'].downwardAPI.items[0].fieldRef.fieldPath, 'metadata.labels');
      // What the sidecar process makes of it.
      const view = await sidecarView(side);
      assert.equal(view.config.profile, 'sidecar');
      assert.deepEqual(view.input.patterns, options.paths);
      assert.equal(view.config.output.kind, 'elasticsearch');
      const labelsMount = side.volumeMounts.find((m: any) => m.name === 'logferry-podinfo');
      assert.equal(view.env.LOGFERRY_PODINFO_LABELS, `${labelsMount.mountPath}/labels`);
      assert.ok(
        side.volumeMounts.some((m: any) => m.mountPath === view.config.dataDir && !m.readOnly),
        'checkpoints in the state emptyDir',
      );
      const meta = view.input.describe('/var/log/app/a.log', '/var/log/app/a.log')!.meta.fields;
      assert.deepEqual(
        [meta.containerName, meta.podName, meta.namespace, meta.podUid, meta.nodeName],
        [container, 'web-7d9f-abcde', 'shop', 'uid-1', 'node-1'],
      );
      if (name.startsWith('Deployment')) {
        assert.match(once, /^# the web front end$/m, 'comments survive');
        assert.match(once, /image: nginx:1.27 # pinned/);
        assert.match(once, /labels: \{app: web\}/, 'flow style kept as written');
        assert.deepEqual(afterObjects[1], beforeObjects[1], 'the Service is untouched');
        assert.equal(once.slice(once.indexOf('---')), text.slice(text.indexOf('---')), 'the Service document is byte for byte the same');
      }
    });
  }

  it('shares a volume the app already mounts at the log directory instead of hiding it', () => {
    const text = DEPLOYMENT.replace(
      '{name: conf, mountPath: /etc/nginx/conf.d}',
      '{name: conf, mountPath: /etc/nginx/conf.d}\n            - {name: logs, mountPath: /var/log/nginx}',
    ).replace('- {name: conf, configMap: {name: web-conf}}', '- {name: conf, configMap: {name: web-conf}}\n        - {name: logs, emptyDir: {}}');
    const out = documents(inject(text, { paths: ['/var/log/nginx/*.log'], esSecret: 'es' }))[0];
    const spec = podSpec(out);
    assert.equal(spec.containers[0].volumeMounts.length, 2, 'no second mount at the same path');
    assert.equal(spec.initContainers[0].volumeMounts[0].name, 'logs');
    assert.ok(!spec.volumes.some((v: any) => v.name === LOGS_VOLUME));
    assert.deepEqual(spec.initContainers[0].envFrom, [{ secretRef: { name: 'es' } }]);
  });

  it('--classic-sidecar: in containers[] for long-running pods, refused for run-to-completion ones', () => {
    const out = documents(inject(DEPLOYMENT, { paths: ['/var/log/app/*.log'], esHost: 'es', classicSidecar: true }))[0];
    const spec = podSpec(out);
    assert.deepEqual(
      spec.containers.map((c: any) => c.name),
      ['web', SIDECAR_NAME],
    );
    assert.equal(spec.containers[1].restartPolicy, undefined);
    assert.equal(spec.initContainers, undefined);
    assert.deepEqual(validateObject(out), []);
    assert.throws(
      () => inject(JOB, { paths: ['/var/log/app/*.log'], esHost: 'es', classicSidecar: true }),
      /document 1: Job migrate runs to completion \(restartPolicy Never\)/,
    );
    assert.throws(() => inject(CRONJOB, { paths: ['/var/log/app/*.log'], esHost: 'es', classicSidecar: true }), /CronJob report runs to completion/);
  });

  it('the example in deploy/examples is what inject makes of the app', () => {
    const app = readFileSync(join(ROOT, 'deploy/examples/app-deployment.yaml'), 'utf8');
    const expected = inject(app, { paths: ['/var/log/shop/*.log'], esHost: 'elasticsearch.example.com', esPort: 9200 });
    assert.equal(
      readFileSync(join(ROOT, 'deploy/examples/sidecar-deployment.yaml'), 'utf8'),
      expected,
      "stale: node bin/logferry.js inject -f deploy/examples/app-deployment.yaml --path '/var/log/shop/*.log' --es-host elasticsearch.example.com > deploy/examples/sidecar-deployment.yaml",
    );
    for (const object of documents(expected)) assert.deepEqual(validateObject(object), [], object.kind);
  });

  it('the command: file or stdin in, YAML out, idempotent; bad input exits 2 naming the document and reason', async () => {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, DEPLOYMENT + '---\n' + CRONJOB);
    const ok = await runAgent({ args: ['inject', '-f', file, '--path', '/var/log/app/*.log', '--es-secret', 'es-creds'] });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      documents(ok.stdout).map((o) => o.kind),
      ['Deployment', 'Service', 'CronJob'],
    );
    assert.equal(podSpec(documents(ok.stdout)[2]).initContainers[0].envFrom[0].secretRef.name, 'es-creds');
    const again = spawnSync(process.execPath, [BIN, 'inject', '-f', '-', '--path', '/var/log/app/*.log', '--es-secret', 'es-creds'], {
      input: ok.stdout,
      encoding: 'utf8',
    });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, ok.stdout, 'a second run through stdin is byte-identical');

    const failures: Array<[string, string[], RegExp]> = [
      [DEPLOYMENT + '---\nkind: [unclosed\n', [], /document 3: not valid YAML/],
      ['apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: canary}\n', [], /document 1: kind "Rollout" is not supported/],
      ['- just\n- a list\n', [], /document 1: not a Kubernetes object/],
      [DEPLOYMENT, ['--path', '/var/log/b/*.log'], /all paths must be in one directory/],
      [DEPLOYMENT, ['--path', 'logs/*.log'], /--path: must be absolute/],
      [DEPLOYMENT, ['--container', 'nope'], /document 1: no container named "nope" in Deployment web \(has web\)/],
      [DEPLOYMENT, ['--es-host', 'es:9200'], /--es-host: a host name or address without scheme or port/],
    ];
    for (const [text, args, message] of failures) {
      writeFileSync(join(dir, 'bad.yaml'), text);
      const result = await runAgent({ args: ['inject', '-f', join(dir, 'bad.yaml'), '--path', '/var/log/a/x.log', '--es-secret', 'es', ...args] });
      assert.equal(result.code, 2, `${message}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '', 'nothing half-written');
    }
    const noEs = await runAgent({ args: ['inject', '-f', file, '--path', '/var/log/app/*.log'] });
    assert.equal(noEs.code, 2);
    assert.match(noEs.stderr, /--es-host: where is Elasticsearch\?/);
    const missing = await runAgent({ args: ['inject', '-f', join(dir, 'nope.yaml'), '--path', '/var/log/app/*.log', '--es-host', 'es'] });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /-f .*nope\.yaml: cannot read it \(ENOENT\)/);
  });

  it('--path is normalised before it becomes a mount and LOGFERRY_PATHS', () => {
    const out = documents(inject(DEPLOYMENT, { paths: ['//var/log/./app/../app//*.log', '/var/log/app/audit.json'], esHost: 'es' }))[0];
    const spec = podSpec(out);
    const sidecar = spec.initContainers.find((c: any) => c.name === SIDECAR_NAME);
    assert.equal(sidecar.env.find((e: any) => e.name === 'LOGFERRY_PATHS').value, '/var/log/app/*.log,/var/log/app/audit.json');
    assert.equal(sidecar.volumeMounts.find((m: any) => m.name === LOGS_VOLUME).mountPath, '/var/log/app');
    assert.equal(spec.containers[0].volumeMounts.find((m: any) => m.name === LOGS_VOLUME).mountPath, '/var/log/app');
    assert.throws(() => inject(DEPLOYMENT, { paths: ['/var/log/app/'], esHost: 'es' }), /--path: give the files, not a directory/);
    // `..` cannot climb out to a directory the checks below refuse.
    assert.throws(() => inject(DEPLOYMENT, { paths: ['/var/log/app/../../../etc/*.log'], esHost: 'es' }), /--path: \/etc is a system directory/);
  });

  it("--path refuses system directories and directories that would hide the image's own files", () => {
    const refused: Array<[string, RegExp]> = [
      ['/etc/*.log', /--path: \/etc is a system directory: an emptyDir mounted there would hide the image's files/],
      ['/etc/nginx/*.log', /--path: \/etc\/nginx is under the system directory \/etc/],
      ['/usr/*.log', /\/usr is a system directory/],
      ['/usr/lib/app/*.log', /under the system directory \/usr\/lib/],
      ['/var/*.log', /\/var is a system directory/],
      ['/proc/self/*.log', /under the system directory \/proc/],
      ['/dev/shm/*.log', /under the system directory \/dev/],
      ['/var/run/secrets/kubernetes.io/*.log', /under the system directory \/var\/run\/secrets/],
      ['/bin/*.log', /\/bin is a system directory/],
      // The logferry image's program is in /app: mounted over, the sidecar would not start.
      ['/app/*.log', /\/app would hide the logferry image's own files \(\/app\) in the sidecar/],
      ['/app/dist/*.log', /would hide the logferry image's own files \(\/app\/dist\/src\)/],
      ['/app/node_modules/x/*.log', /would hide the logferry image's own files \(\/app\/node_modules\)/],
      ['/var/lib/logferry/*.log', /clashes with the sidecar's own volume at \/var\/lib\/logferry/],
    ];
    for (const [path, message] of refused) assert.throws(() => inject(DEPLOYMENT, { paths: [path], esHost: 'es' }), message, path);
    for (const path of ['/var/log/app/*.log', '/app/logs/*.log', '/usr/local/tomcat/logs/*.log', '/opt/shop/log/*.log', '/tmp/*.log', '/data/logs/*.log']) {
      assert.doesNotThrow(() => inject(DEPLOYMENT, { paths: [path], esHost: 'es' }), path);
    }
  });

  it("the image's own paths are those the Dockerfile puts there", () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy/docker/Dockerfile'), 'utf8');
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const destinations = [...finalStage.matchAll(/^COPY .* (\/\S+)$/gm)].map((m) => m[1]);
    const workdir = /^WORKDIR (\S+)$/m.exec(finalStage)?.[1];
    assert.ok(destinations.length > 0 && workdir !== undefined);
    assert.deepEqual([workdir, ...destinations].sort(), [...IMAGE_APP_PATHS].sort());
  });
});
