import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerOrigin, parseContainerLogName, parsePodLogPath } from './naming.js';

const ID = 'a'.repeat(64);

describe('container log naming', () => {
  it('reads pod, namespace, container and id from the /var/log/containers name', () => {
    assert.deepEqual(parseContainerLogName(`/var/log/containers/web-7d4b9c8f6d-x2x9z_shop_nginx-proxy-${ID}.log`), {
      podName: 'web-7d4b9c8f6d-x2x9z',
      namespace: 'shop',
      containerName: 'nginx-proxy',
      containerId: ID,
    });
    assert.equal(parseContainerLogName('/var/log/containers/garbage.log'), undefined);
  });

  it('reads the pod uid from the /var/log/pods target and combines both', () => {
    const target = '/var/log/pods/shop_web-1_0f1e2d3c-aaaa-bbbb-cccc-000000000001/nginx/3.log';
    assert.equal(parsePodLogPath(target)?.podUid, '0f1e2d3c-aaaa-bbbb-cccc-000000000001');
    assert.equal(parsePodLogPath(`${target}.20261124-120000`)?.containerName, 'nginx');
    const origin = containerOrigin(`/var/log/containers/web-1_shop_nginx-${ID}.log`, target);
    assert.equal(origin?.podUid, '0f1e2d3c-aaaa-bbbb-cccc-000000000001');
    assert.equal(origin?.containerId, ID);
  });
});
