import { describe, expect, it } from 'vitest';
import { functionKeyOfLogicalId, stateMachineResource, synthesizeTemplates } from '../../lib/infra/synth.ts';
import { FUNCTIONS } from '../../lib/wiring/resources.ts';

describe('synthesizeTemplates', () => {
  const templates = synthesizeTemplates({ bundling: false });
  const template = templates['HomeShelves-dev']!;

  it('returns the stack template by stack name (stage dev unless configured), without bundling', () => {
    expect(Object.keys(templates)).toEqual(['HomeShelves-dev']);
    expect(template.Resources[FUNCTIONS.serve.id]?.Type).toBe('AWS::Lambda::Function');
  });

  it('exposes the state machine definition as an Fn::Join of text and tokens', () => {
    const definition = stateMachineResource(template).Properties?.DefinitionString as { 'Fn::Join': [string, unknown[]] };
    expect(definition['Fn::Join'][0]).toBe('');
    expect(definition['Fn::Join'][1]).toContainEqual({ 'Fn::GetAtt': [FUNCTIONS.beginRun.id, 'Arn'] });
  });

  it.each(Object.entries(FUNCTIONS).map(([key, spec]) => [spec.id, key]))(
    'maps the logical id %s back to FUNCTIONS.%s',
    (logicalId, key) => {
      expect(functionKeyOfLogicalId(logicalId)).toBe(key);
    },
  );

  it('gives the same template with the CDK CloudFormation validation off (what the local runner reads)', () => {
    expect(synthesizeTemplates({ bundling: false, validation: false })).toEqual(templates);
  });

  it('maps an unknown logical id to nothing', () => {
    expect(functionKeyOfLogicalId('SomethingElse')).toBeUndefined();
  });
});
