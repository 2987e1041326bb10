// Placeholder until the evaluate handler lands (issues 5 and 6); the CDK stack needs the entry file to exist.
export const handler = async (): Promise<never> => {
  throw new Error('evaluate: not implemented yet');
};
