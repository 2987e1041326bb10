import { beforeAll, describe, expect, it } from 'vitest';
import { STAGE_PRESETS } from '../../lib/infra/app-config.ts';
import { BUCKETS, FUNCTIONS, TABLES } from '../../lib/wiring/resources.ts';
import { synthStack } from './stack-fixture.ts';

let dev: ReturnType<typeof synthStack>;
let prod: ReturnType<typeof synthStack>;
// Two syntheses take long on a busy machine.
beforeAll(() => {
  dev = synthStack({ stage: 'dev' });
  prod = synthStack({ stage: 'prod' });
}, 600_000);

type Template = ReturnType<typeof synthStack>['json'] & {
  Resources: Record<string, { DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
};
const autoDeleted = (t: Template) =>
  Object.values(t.Resources)
    .filter((r) => r.Type === 'Custom::S3AutoDeleteObjects')
    .map((r) => JSON.stringify(r.Properties?.BucketName));
const errorsThreshold = (t: Template, functionId: string) =>
  Object.values(t.Resources).find(
    (r) =>
      r.Type === 'AWS::CloudWatch::Alarm' &&
      r.Properties?.MetricName === 'Errors' &&
      JSON.stringify(r.Properties?.Dimensions).includes(`"Ref":"${functionId}"`),
  )?.Properties?.Threshold;

describe('stages from one definition', () => {
  it('names the stacks by stage', () => {
    expect(dev.stack.stackName).toBe('HomeShelves-dev');
    expect(prod.stack.stackName).toBe('HomeShelves-prod');
  });

  it('builds the same resources in both stages, the dev-only bucket emptier aside', () => {
    const types = (t: Template) =>
      Object.values(t.Resources)
        .map((r) => r.Type)
        .filter((type) => type !== 'Custom::S3AutoDeleteObjects')
        .sort();
    // The emptier is one CDK provider function with its role.
    const devTypes = types(dev.json as Template);
    for (const type of ['AWS::Lambda::Function', 'AWS::IAM::Role']) devTypes.splice(devTypes.indexOf(type), 1);
    expect(devTypes).toEqual(types(prod.json as Template));
  });

  it.each([...BUCKETS, ...TABLES].map((r) => [r.id]))('dev deletes %s with the stack; prod keeps it', (id) => {
    expect((dev.json as Template).Resources[id]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect((prod.json as Template).Resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('dev empties every bucket before deleting it (CloudFormation cannot delete a bucket with objects); prod never does', () => {
    const bucketIds = Object.entries(dev.json.Resources)
      .filter(([, r]) => r.Type === 'AWS::S3::Bucket')
      .map(([id]) => JSON.stringify({ Ref: id }));
    expect(autoDeleted(dev.json as Template).sort()).toEqual(bucketIds.sort());
    expect(autoDeleted(prod.json as Template)).toEqual([]);
  });

  it.each([
    ['dev', () => dev, 'Delete'],
    ['prod', () => prod, 'Retain'],
  ] as const)('%s log groups: %s on stack deletion', (_, get, policy) => {
    const groups = Object.entries((get().json as Template).Resources).filter(
      ([id, r]) =>
        r.Type === 'AWS::Logs::LogGroup' &&
        (/^Retraining/.test(id) || Object.values(FUNCTIONS).some((f) => id.startsWith(`${f.id}LogGroup`))),
    );
    expect(groups).toHaveLength(Object.keys(FUNCTIONS).length + 1);
    for (const [, group] of groups) expect(group).toMatchObject({ DeletionPolicy: policy });
  });

  it('alarms with each stage’s thresholds', () => {
    expect(errorsThreshold(dev.json as Template, FUNCTIONS.serve.id)).toBe(STAGE_PRESETS.dev.alarms.lambdaErrors);
    expect(errorsThreshold(prod.json as Template, FUNCTIONS.serve.id)).toBe(STAGE_PRESETS.prod.alarms.lambdaErrors);
    expect(STAGE_PRESETS.prod.alarms.lambdaErrors).toBeLessThan(STAGE_PRESETS.dev.alarms.lambdaErrors);
  });
});
