import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/infra/synth.ts';

/** Synthesizes (so aspects and late bindings run) and applies the AwsSolutions pack. */
function nagFindings(mutate: (stack: ReturnType<typeof buildApp>['stack']) => void = () => {}) {
  const { app, stack } = buildApp({ bundling: false });
  mutate(stack);
  app.synth();
  return new AwsSolutionsChecks(app)
    .validateScope(app)
    .violations.map((v) => ({ rule: v.ruleName, severity: v.severity, at: v.violatingResources.map((r) => r.constructPath) }));
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning', () => {
    expect(nagFindings()).toEqual([]);
  }, 600_000);

  it('still catches a wildcard resource nobody acknowledged', () => {
    const findings = nagFindings((stack) => {
      stack.functions.serve.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::someone-elses-bucket/*'] }),
      );
    });
    expect(findings).toEqual([
      {
        rule: 'AwsSolutions-IAM5[Resource::arn:aws:s3:::someone-elses-bucket/*]',
        severity: 'error',
        at: [expect.stringContaining('ServeFunction/Role')],
      },
    ]);
  }, 600_000);
});
