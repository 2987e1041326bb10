/**
 * cdk-nag acknowledgments (cdk-nag v3 reads CDK's `Validations.of(x).acknowledge`). Each one names
 * the exact finding it accepts, so a new wildcard elsewhere still fails the check.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** Accepts rule `ruleId` (e.g. `AwsSolutions-S1`) on `scope` and everything below it. */
export function acknowledgeRule(scope: IConstruct, ruleId: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: ruleId, reason });
}

/**
 * Accepts AwsSolutions-IAM5 for exactly these policy resources (ARN strings or tokens, as passed to
 * the policy statement) on `scope` and below.
 */
export function acknowledgeWildcardResources(scope: IConstruct, reason: string, resources: readonly string[]): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(resource))}]`, reason });
  }
}
